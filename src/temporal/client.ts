/** Client helpers for the CLI, the demo and the tests. */
import { Client, Connection } from '@temporalio/client';
import { codecDataConverter, codecFromEnvironment } from './codec';
import { temporalConfig, type TemporalConfig } from './config';

export class TemporalUnreachable extends Error {}

/** A client on `config`; with PGTRANSIT_CODEC_KEY set in `env`, it encrypts what it sends and decrypts what it reads. */
export async function connectClient(
  config: TemporalConfig = temporalConfig(),
  env: NodeJS.ProcessEnv = process.env,
): Promise<Client> {
  const dataConverter = codecDataConverter(codecFromEnvironment(env));
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: config.address, connectTimeout: '5 seconds' });
  } catch (e) {
    throw new TemporalUnreachable(
      `cannot reach Temporal at ${config.address} (namespace ${config.namespace}): ${(e as Error).message}. ` +
        'Start a local one with `pgtransit dev`, or set TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE.',
    );
  }
  return new Client({ connection, namespace: config.namespace, ...(dataConverter ? { dataConverter } : {}) });
}

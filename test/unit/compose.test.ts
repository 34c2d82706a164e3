/**
 * docker-compose.yml and the Dockerfile, checked without a Docker engine: the files the stack
 * mounts exist and are the ones the cluster test runs (temporal-config/), every image is
 * pinned, published ports are distinct, the worker image runs as a non-root user with the
 * client tools of the newest PostgreSQL major pgtransit supports.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parse } from 'yaml';
import { EMBEDDED_MAJORS } from '../../src/dev/embedded-postgres';
import {
  NAMESPACE_SETUP_SCRIPT,
  SCHEMA_SETUP_SCRIPT,
  TEMPORAL_CONFIG_DIR,
  TEMPORAL_CONFIG_ENV,
  TEMPORAL_DYNAMIC_CONFIG_FILE,
  TEMPORAL_SERVICES,
} from '../../src/dev/temporal-server';

const root = join(__dirname, '..', '..');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  profiles?: string[];
}

// Compose reads YAML 1.1 merge keys (`<<: *anchor`); so must the test.
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const services = compose.services;
const temporalServices = Object.entries(services).filter(([, s]) => s.image?.startsWith('temporalio/server:'));

/** Bind mounts as [host path relative to the clone, container path]. */
function binds(s: Service): [string, string][] {
  return (s.volumes ?? [])
    .filter((v) => v.startsWith('./') || v.startsWith('../') || v.startsWith('/'))
    .map((v) => {
      const [host, container] = v.split(':');
      return [relative(root, resolve(root, host!)), container!];
    });
}
const rel = (path: string) => relative(root, path);

/** The argument of `--flag value` in a service's entrypoint script. */
function flag(s: Service, name: string): string | undefined {
  const script = (s.entrypoint ?? []).join(' ');
  return new RegExp(`--${name}[ =](\\S+)`).exec(script)?.[1];
}

describe('docker-compose.yml', () => {
  it('mounts only files that exist', () => {
    const mounted = Object.values(services).flatMap(binds);
    assert.ok(mounted.length >= 4, 'the stack mounts its config files');
    for (const [host] of mounted) assert.ok(existsSync(join(root, host)), `${host} exists`);
  });

  it('runs every Temporal service from the static and dynamic config the cluster test runs', () => {
    assert.deepEqual(temporalServices.map(([, s]) => s.command?.[0]).sort(), [...TEMPORAL_SERVICES].sort());
    for (const [name, s] of temporalServices) {
      const configDir = `${flag(s, 'root')}/${flag(s, 'config')}`;
      const staticConfig = `${configDir}/${flag(s, 'env')}.yaml`;
      assert.equal(flag(s, 'env'), TEMPORAL_CONFIG_ENV, `${name} loads the same environment's file`);
      const at = new Map(binds(s).map(([host, container]) => [container, host]));
      assert.equal(at.get(staticConfig), rel(join(TEMPORAL_CONFIG_DIR, `${TEMPORAL_CONFIG_ENV}.yaml`)), name);
      const dynamic = s.environment?.TEMPORAL_DYNAMIC_CONFIG_FILE;
      assert.ok(dynamic, `${name} names its dynamic config`);
      assert.equal(at.get(dynamic), rel(TEMPORAL_DYNAMIC_CONFIG_FILE), name);
      assert.match(s.entrypoint!.join(' '), /--service=\$\$1/, `${name} starts the service its command names`);
    }
  });

  it('sets up the schema and the namespace with the scripts the cluster test runs', () => {
    const schema = Object.values(services).find((s) => s.image?.startsWith('temporalio/admin-tools:'));
    assert.ok(schema, 'a schema job from temporalio/admin-tools');
    const at = new Map(binds(schema).map(([host, container]) => [container, host]));
    const script = schema.entrypoint?.find((a) => a.endsWith('.sh'));
    assert.equal(script && at.get(script), rel(SCHEMA_SETUP_SCRIPT));
    const namespace = Object.values(services).find((s) => s.entrypoint?.includes(rel(NAMESPACE_SETUP_SCRIPT)));
    assert.ok(namespace?.build, 'the namespace job runs setup-namespace.ts from the pgtransit image');
  });

  it('passes the Temporal services every variable their config needs, and none it ignores', () => {
    const config = readFileSync(join(TEMPORAL_CONFIG_DIR, `${TEMPORAL_CONFIG_ENV}.yaml`), 'utf8');
    assert.match(config.slice(0, 1024), /^# enable-template/m, 'the server renders the config itself');
    const read = new Set([...config.matchAll(/env "(\w+)"/g)].map((m) => m[1]!));
    // Required: read with no default and outside an `if` (only the password).
    const optional = new Set([...config.matchAll(/env "(\w+)" \| default|if env "(\w+)"/g)].map((m) => m[1] ?? m[2]!));
    const required = [...read].filter((v) => !optional.has(v));
    assert.deepEqual(required, ['TEMPORAL_DB_PASSWORD']);
    for (const [name, s] of temporalServices) {
      const given = Object.keys(s.environment ?? {});
      for (const v of required) assert.ok(given.includes(v), `${name} sets ${v}`);
      for (const v of given) assert.ok(read.has(v), `${name} sets ${v}, which cluster.yaml reads`);
    }
    const schema = Object.values(services).find((s) => s.image?.startsWith('temporalio/admin-tools:'))!;
    const script = readFileSync(SCHEMA_SETUP_SCRIPT, 'utf8');
    for (const v of Object.keys(schema.environment ?? {})) assert.match(script, new RegExp(`\\b${v}\\b`));
  });

  it('pins every image to a version', () => {
    for (const [name, s] of Object.entries(services)) {
      assert.ok(s.image, `${name} names its image`);
      const [repo, tag] = s.image.split(':');
      assert.ok(tag && tag !== 'latest', `${name}: ${s.image} has a tag other than latest`);
      // A bare major (postgres:17) or major.minor of a project with patch releases floats.
      const parts = /^(\d+(?:\.\d+)*)/.exec(tag)?.[1]?.split('.').length ?? 0;
      const wanted = repo!.startsWith('temporalio/') || s.build ? 3 : 2;
      assert.ok(parts >= wanted, `${name}: ${s.image} is pinned to a full version`);
    }
  });

  it('publishes each host port once, and none from the workers (so they scale)', () => {
    const published = Object.entries(services).flatMap(([name, s]) =>
      (s.ports ?? []).map((p) => ({ name, host: String(p).split(':').slice(-2)[0] })),
    );
    assert.ok(published.some((p) => p.name === 'temporal-frontend' && p.host === '7233'));
    const hosts = published.map((p) => p.host);
    assert.deepEqual(hosts, [...new Set(hosts)], 'distinct host ports');
    assert.equal(services.worker?.ports, undefined, 'the worker publishes no port');
    assert.ok(services.worker?.build, 'the worker is built from the Dockerfile');
  });

  it('keeps the sample databases behind a profile', () => {
    const samples = Object.entries(services).filter(([name]) => name.startsWith('sample-'));
    assert.equal(samples.length, 2);
    for (const [name, s] of samples) assert.deepEqual(s.profiles, ['sample'], name);
    assert.ok(services['sample-source']?.command?.join(' ').includes('wal_level=logical'));
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const args = new Map<string, string>();
  for (const l of lines) {
    const m = /^ARG (\w+)=(\S+)/.exec(l);
    if (m) args.set(m[1]!, m[2]!);
  }
  const expand = (s: string) => s.replace(/\$\{?(\w+)\}?/g, (_, k: string) => args.get(k) ?? `$${k}`);

  it('builds in stages from pinned base images', () => {
    const froms = lines.filter((l) => l.startsWith('FROM ')).map((l) => expand(l.split(/\s+/)[1]!));
    assert.ok(froms.length >= 2, 'multi-stage');
    for (const image of froms) {
      const tag = image.split(':')[1];
      assert.ok(tag && tag !== 'latest' && /^\d+\.\d+\.\d+/.test(tag), `${image} is pinned to a full version`);
    }
    assert.match(text, /npm ci --omit=dev/);
  });

  it('runs as a user other than root', () => {
    const lastFrom = lines.map((l) => l.startsWith('FROM ')).lastIndexOf(true);
    const finalStage = lines.slice(lastFrom);
    const users = finalStage.filter((l) => l.startsWith('USER ')).map((l) => l.split(/\s+/)[1]!);
    assert.ok(users.length > 0, 'the final stage sets USER');
    assert.ok(!['root', '0'].includes(users.at(-1)!.split(':')[0]!), `USER ${users.at(-1)} is not root`);
  });

  it('installs the client tools of the newest PostgreSQL major pgtransit supports, from PGDG', () => {
    assert.equal(Number(args.get('PG_MAJOR')), Math.max(...EMBEDDED_MAJORS));
    assert.match(text, /apt\.postgresql\.org\/pub\/repos\/apt/);
    assert.match(text, /postgresql-client-\$\{PG_MAJOR\}/);
  });
});

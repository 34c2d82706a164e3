/** A local HTTP server that receives notify.webhook's POSTs, or refuses them. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Notification } from '../../src/model/notify';

export interface Webhook {
  /** The URL, with a token in its path as real webhooks have: it must never leave the worker. */
  url: string;
  token: string;
  received: Notification[];
  /** The HTTP status it answers with (204 unless set). */
  status: number;
  close(): Promise<void>;
}

export async function startWebhook(token: string): Promise<Webhook> {
  const hook: Webhook = { url: '', token, received: [], status: 204, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === `/hooks/${token}` && hook.status < 300) {
        hook.received.push(JSON.parse(body) as Notification);
      }
      res.writeHead(hook.status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hook.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/${token}`;
  hook.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return hook;
}

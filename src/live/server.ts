// The live view's HTTP server: the page at '/', and its updates at '/events' as server-sent events.
// Server-sent events because the updates only ever go one way (the pack to the page), they are plain
// HTTP that any browser reconnects by itself, need no library on either side, and pass an SSH
// tunnel unchanged; a WebSocket would add a protocol for a direction never used, polling would make
// every open tab ask when nothing has changed.
//
// It must never hold up or change the run:
//  - it listens on 127.0.0.1 only, and answers only requests addressed to a loopback name (a page
//    elsewhere cannot reach it through a DNS name of its own);
//  - every update is the whole state, so a client needs only the latest: a client still busy with
//    an earlier one gets the newest when it is ready, never a queue (one update per client at most is
//    held), and one that takes no update for STALL_MS is dropped;
//  - nothing here is awaited by the run: publish() writes and returns;
//  - the server and its connections are unref'd and closed at the end, so an open tab never keeps
//    the pack from exiting.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UsageError } from '../common/errors';

/** A client that has taken no update for this long is dropped (it reconnects by itself if it can). */
export const STALL_MS = 30_000;
/** Tabs open at once; more are refused (a page open many times is a mistake, not a need). */
export const MAX_CLIENTS = 16;
/** How long close() waits at most for the last update to reach the open tabs. */
const FLUSH_MS = 500;

const LOOPBACK_HOST = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/i;

interface Client {
  res: ServerResponse;
  /** The newest update not written yet, because the client had not taken the last one. */
  pending?: string;
  /** When it last took everything it was sent. */
  drainedAt: number;
}

export interface LiveServer {
  url: string;
  port: number;
  /** The page for a new tab: the state at this moment. */
  setPage(render: () => string): void;
  /** Sends an update to every open tab: 'page' while the run goes, 'final' once. */
  publish(event: 'page' | 'final', data: string): void;
  clients(): number;
  /** Ends every connection and stops listening; resolves once the last update was handed over (or FLUSH_MS). */
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

export async function startLiveServer(port = 0, { stallMs = STALL_MS }: { stallMs?: number } = {}): Promise<LiveServer> {
  let page = () => '';
  let last: string | undefined;
  const clients = new Set<Client>();

  const send = (c: Client, message: string) => {
    if (c.res.writableLength > 0) {
      // Still busy with an earlier update: keep only the newest, or drop a client that stopped reading.
      if (Date.now() - c.drainedAt > stallMs) c.res.destroy();
      else c.pending = message;
      return;
    }
    c.pending = undefined;
    if (c.res.write(message)) c.drainedAt = Date.now();
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    res.socket?.unref();
    if (!LOOPBACK_HOST.test(req.headers.host ?? '')) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('the live view answers on 127.0.0.1 only\n');
      return;
    }
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET', 'content-type': 'text/plain' }).end('GET only\n');
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/') {
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8' }).end(page());
      return;
    }
    if (path !== '/events') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (clients.size >= MAX_CLIENTS) {
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '10' }).end('too many tabs open\n');
      return;
    }
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
    req.socket.setNoDelay(true);
    const client: Client = { res, drainedAt: Date.now() };
    clients.add(client);
    res.on('drain', () => {
      client.drainedAt = Date.now();
      if (client.pending) send(client, client.pending);
    });
    res.on('close', () => clients.delete(client));
    res.write('retry: 2000\n\n');
    if (last) send(client, last);
  });
  server.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new UsageError(`--live-port ${port} is in use on 127.0.0.1; choose another, or leave --live-port out for a free one`)
          : err.code === 'EACCES'
            ? new UsageError(`--live-port ${port} needs privileges on this machine; choose one above 1023`)
            : err,
      ),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${actual}/`,
    port: actual,
    setPage(render) {
      page = render;
    },
    publish(event, data) {
      // One line of JSON: SSE ends a field at a newline, and JSON.stringify escapes every one.
      last = `event: ${event}\ndata: ${data}\n\n`;
      for (const c of clients) send(c, last);
    },
    clients: () => clients.size,
    async close() {
      const open = [...clients];
      // A tab still busy gets the newest update (the final one) before its stream ends.
      for (const c of open) if (c.pending) c.res.write(c.pending);
      await Promise.race([
        Promise.all(open.map((c) => new Promise<void>((resolve) => (c.res.writableEnded ? resolve() : c.res.end(resolve))))),
        new Promise<void>((resolve) => setTimeout(resolve, FLUSH_MS).unref()),
      ]);
      for (const c of open) c.res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

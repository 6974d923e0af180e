// Both gateway simulators on loopback, for tests, the demo and the benchmark. Plain node:http, no framework.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../shared/log.js';
import type { SandboxData } from '../data.js';
import { FaultInjector, type FaultOptions } from './faults.js';
import { PayunitySimulator } from './payunity.js';
import { UseepaySimulator, type UseepaySimulatorOptions } from './useepay.js';

export type { FaultOptions } from './faults.js';
export { SERVED_TEXT } from './http-util.js';

export interface SandboxServerOptions {
  host?: string;
  payunityPort?: number;
  useepayPort?: number;
  faults?: FaultOptions;
  log?: Logger;
  /** The clock that stamps refunds created through the simulators. */
  now?: () => Date;
  useepay?: UseepaySimulatorOptions;
}

export interface SandboxServers {
  payunityUrl: string;
  useepayUrl: string;
  /** The served data; refunds sent to the simulators are appended to it. */
  data: SandboxData;
  /** Changes the injected faults from now on (both simulators share one fault sequence). */
  setFaults(faults: FaultOptions): void;
  /** Faults injected so far, by kind ('429', '500', 'slow', 'malformed', 'drop', 'refundTimeout', 'refundDrop'). */
  faultsInjected(): Record<string, number>;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

async function listen(
  handler: Handler,
  host: string,
  port: number,
  name: string,
  log?: Logger,
): Promise<Server> {
  const server = createServer({ keepAlive: true }, (req, res) => {
    handler(req, res).catch((e: unknown) => {
      log?.error({ err: e, gateway: name, url: req.url }, 'sandbox handler failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"code":"service_unavailable","message":"sandbox error"}');
    });
  });
  // Keep-alive sockets must outlive a client's pauses between pages.
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

function urlOf(server: Server, host: string): string {
  const a = server.address() as AddressInfo;
  return `http://${host.includes(':') ? `[${host}]` : host}:${a.port}`;
}

export async function startSandboxServers(
  data: SandboxData,
  opts: SandboxServerOptions = {},
): Promise<SandboxServers> {
  const host = opts.host ?? '127.0.0.1';
  const now = opts.now ?? (() => new Date());
  const faults = new FaultInjector({ ...opts.faults });
  const payunity = new PayunitySimulator(data.payunity, data.credentials.payunity, faults, now);
  const useepay = new UseepaySimulator(data.useepay, data.credentials.useepay, faults, now, opts.useepay);
  const pu = await listen(
    (q, s) => payunity.handle(q, s),
    host,
    opts.payunityPort ?? 0,
    'payunity',
    opts.log,
  );
  let ue: Server;
  try {
    ue = await listen((q, s) => useepay.handle(q, s), host, opts.useepayPort ?? 0, 'useepay', opts.log);
  } catch (e) {
    pu.close();
    throw e;
  }
  const close = (s: Server) =>
    new Promise<void>((resolve) => {
      s.close(() => resolve());
      // Held-open refund answers and idle keep-alive sockets must not keep the process alive.
      s.closeAllConnections();
    });
  return {
    payunityUrl: urlOf(pu, host),
    useepayUrl: urlOf(ue, host),
    data,
    setFaults: (f) => faults.set({ ...f }),
    faultsInjected: () => ({ ...faults.injected }),
    async close() {
      await Promise.all([close(pu), close(ue)]);
    },
  };
}

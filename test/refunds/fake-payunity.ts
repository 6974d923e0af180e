// A tiny PayUnity (OPPWA) refund endpoint over real HTTP, for developing the refund executor before the project's
// simulators exist. It speaks the wire format of gateways.md so the real PayunityClient talks to it unchanged.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRefund {
  id: string;
  paymentType: 'RF';
  referencedId: string;
  amount: string;
  currency: string;
  merchantTransactionId: string;
  result: { code: string; description: string };
}

/** What the next refund POST does. */
export type RefundFault =
  | { kind: 'apply_then_hang' } // applied, then no answer until the client gives up: the "timeout after apply" case
  | { kind: 'hang_then_drop' } // never applied; the connection is held until the client goes away
  | { kind: 'decline' };

export interface FakePayunity {
  url: string;
  entityId: string;
  accessToken: string;
  refunds: FakeRefund[];
  posts: number;
  payments: Map<string, { amount: string; currency: string }>;
  nextFault: RefundFault | undefined;
  close(): Promise<void>;
}

export async function startFakePayunity(): Promise<FakePayunity> {
  const state: FakePayunity = {
    url: '',
    entityId: 'fake-entity',
    accessToken: 'fake-token',
    refunds: [],
    posts: 0,
    payments: new Map(),
    nextFault: undefined,
    close: () => Promise.resolve(),
  };
  const hung = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${state.accessToken}`) return send(401, { result: { code: '800.900.300', description: 'invalid authentication' } });
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const pay = /^\/v1\/payments\/([^/]+)$/.exec(url.pathname);
      if (req.method === 'POST' && pay) {
        state.posts += 1;
        const form = new URLSearchParams(body);
        const fault = state.nextFault;
        state.nextFault = undefined;
        if (fault?.kind === 'hang_then_drop') {
          hung.add(res);
          return;
        }
        const paymentId = decodeURIComponent(pay[1] ?? '');
        const payment = state.payments.get(paymentId);
        const amount = form.get('amount') ?? '';
        const refunded = state.refunds.filter((r) => r.referencedId === paymentId).reduce((s, r) => s + Math.round(Number(r.amount) * 100), 0);
        if (!payment || fault?.kind === 'decline' || refunded + Math.round(Number(amount) * 100) > Math.round(Number(payment.amount) * 100)) {
          return send(200, { id: randomBytes(16).toString('hex'), paymentType: 'RF', result: { code: '700.400.200', description: 'cannot refund (refund volume exceeded or tx reversed or invalid workflow)' } });
        }
        const refund: FakeRefund = {
          id: randomBytes(16).toString('hex'),
          paymentType: 'RF',
          referencedId: paymentId,
          amount,
          currency: form.get('currency') ?? '',
          merchantTransactionId: form.get('merchantTransactionId') ?? '',
          result: { code: '000.100.110', description: "Request successfully processed in 'Merchant in Integrator Test Mode'" },
        };
        state.refunds.push(refund);
        if (fault?.kind === 'apply_then_hang') {
          hung.add(res);
          return;
        }
        return send(200, { ...refund, buildNumber: 'fake', timestamp: new Date().toISOString(), ndc: 'fake' });
      }
      if (req.method === 'GET' && url.pathname === '/v1/query') {
        const ref = url.searchParams.get('merchantTransactionId');
        const payments = state.refunds.filter((r) => r.merchantTransactionId === ref);
        if (payments.length === 0) return send(400, { result: { code: '700.400.580', description: 'cannot find transaction' } });
        return send(200, { result: { code: '000.000.100', description: 'successful request' }, payments });
      }
      send(404, { result: { code: '200.300.404', description: 'invalid or missing parameter' } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const r of hung) r.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

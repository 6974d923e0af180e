// Window edges: a record at 23:59:59.999 belongs to its day, one at midnight to the next, in both gateways, and a
// day pulled twice in pieces gives the same records as the whole.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatewayClient } from '../../src/gateways/index.js';
import type { GatewayClient, PullWindow } from '../../src/gateways/types.js';
import { dateWindows, dayWindows } from '../../src/gateways/windows.js';
import { DEFAULT_CREDENTIALS, type SandboxData } from '../../src/sandbox/data.js';
import { startSandboxServers, type SandboxServers } from '../../src/sandbox/server/index.js';
import { silentLogger } from '../../src/shared/log.js';
import { gatewayConfig } from './helpers.js';

const EDGES = [
  '2026-11-01 23:59:59.999+0000',
  '2026-11-02 00:00:00.000+0000',
  '2026-11-02 12:00:00+0000',
  '2026-11-02 23:59:59.999+0000',
  '2026-11-03 00:00:00.000+0000',
];
const data: SandboxData = {
  credentials: DEFAULT_CREDENTIALS,
  payunity: EDGES.map((ts, i) => ({
    id: String(i).padStart(32, 'a'),
    paymentType: 'DB',
    amount: '1.00',
    currency: 'EUR',
    result: { code: '000.100.110' },
    timestamp: ts,
  })),
  useepay: {
    intents: EDGES.map((ts, i) => ({
      id: `10${i}`,
      amount: 1,
      currency: 'USD',
      status: 'succeeded',
      create_at: ts.replace(' ', 'T').replace('+0000', 'Z'),
    })),
    refunds: [],
  },
};
const DAY: PullWindow = { from: new Date('2026-11-02T00:00:00Z'), to: new Date('2026-11-03T00:00:00Z') };

let sim: SandboxServers;
let clients: GatewayClient[];
beforeAll(async () => {
  sim = await startSandboxServers(data);
  const config = gatewayConfig(sim, data.credentials, 'postgres://unused/db');
  clients = (['payunity', 'useepay'] as const).map((p) =>
    createGatewayClient(p, config, { log: silentLogger() }),
  );
});
afterAll(async () => {
  await sim?.close();
});

async function ids(c: GatewayClient, w: PullWindow): Promise<string[]> {
  const out: string[] = [];
  for await (const p of c.pull(w)) out.push(...p.records.map((r) => r.transactionId));
  return out.sort();
}

describe('pull windows', () => {
  it('takes [00:00:00.000, 24:00:00.000) of the day, to the millisecond', async () => {
    expect(await ids(clients[0]!, DAY)).toEqual([1, 2, 3].map((i) => String(i).padStart(32, 'a')));
    expect(await ids(clients[1]!, DAY)).toEqual(['101', '102', '103']);
  });

  it('splits a multi-day window at UTC midnights', async () => {
    const w = { from: new Date('2026-11-01T12:00:00Z'), to: new Date('2026-11-03T06:00:00Z') };
    expect(dayWindows(w).map((x) => [x.from.toISOString(), x.to.toISOString()])).toEqual([
      ['2026-11-01T12:00:00.000Z', '2026-11-02T00:00:00.000Z'],
      ['2026-11-02T00:00:00.000Z', '2026-11-03T00:00:00.000Z'],
      ['2026-11-03T00:00:00.000Z', '2026-11-03T06:00:00.000Z'],
    ]);
    expect(
      await ids(clients[1]!, {
        from: new Date('2026-11-01T00:00:00Z'),
        to: new Date('2026-11-04T00:00:00Z'),
      }),
    ).toEqual(['100', '101', '102', '103', '104']);
  });

  it('covers the local dates of the configured time zone with whole UTC days', () => {
    const days = (from: string, to: string, tz: string) =>
      dateWindows(from, to, tz).map((w) => w.from.toISOString().slice(0, 10));
    expect(days('2026-10-03', '2026-10-03', 'UTC')).toEqual(['2026-10-03']);
    // New York's 3 October ends at 04:00 UTC on the 4th; Berlin's starts at 22:00 UTC on the 2nd.
    expect(days('2026-10-03', '2026-10-03', 'America/New_York')).toEqual(['2026-10-03', '2026-10-04']);
    expect(days('2026-10-03', '2026-10-04', 'Europe/Berlin')).toEqual([
      '2026-10-02',
      '2026-10-03',
      '2026-10-04',
    ]);
    // Whole days only, so a day pulled for one run is the same request as for the next.
    for (const w of dateWindows('2026-10-03', '2026-10-03', 'Asia/Kolkata'))
      expect(w.to.getTime() - w.from.getTime()).toBe(86_400_000);
  });
});

// Refunds and chargebacks the pull returns whose payment is older than the pulled window: a run looks the payment
// up at the gateway (the simulators, over HTTP) and stores it, so that chargebacks are valued and over-refunds are
// judged. Real pull, real matching, real Postgres; the settlement lines are inserted as a fetch would load them.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { OpenDatabase } from '../../src/db/open.js';
import { executeRun } from '../../src/jobs/run.js';
import { defaultStages } from '../../src/jobs/stages.js';
import { DEFAULT_CREDENTIALS, type SandboxData } from '../../src/sandbox/data.js';
import { startSandboxServers, type SandboxServers } from '../../src/sandbox/server/index.js';
import { oppwaTime } from '../../src/sandbox/server/payunity.js';
import { silentLogger } from '../../src/shared/log.js';
import { testDbPerSuite } from '../helpers/db.js';
import { insertFile, openDiscrepancies } from './fixtures.js';

const tdb = testDbPerSuite();
let db: OpenDatabase;
let servers: SandboxServers;

const OK = { code: '000.100.110', description: 'Request successfully processed' };
const CHARGEBACK = { code: '000.100.200', description: 'Reason not Specified' };
const id = (n: number) => `8ac7a4a1${String(n).padStart(24, '0')}`;

// Last month's sales, outside [from − 7 days, to] = [11-09, 11-20]:
const SALE_A = id(1); // 60.00 EUR on 10-20, refunded 60.00 and 10.00 on 11-17
const SALE_B = id(2); // 25.00 EUR on 10-20, charged back on 11-17 by a CB without amount
const PA_C = id(3); // 50.00 EUR authorised on 10-12, captured by CP_C on 10-13
const CP_C = id(4); // refunded 50.00 and 5.00 on 11-18, by refunds that reference the capture
const GONE = id(5); // referenced by a refund, unknown to the gateway
const CB_B = id(20);
const [RF_A1, RF_A2, RF_C1, RF_C2, RF_GONE, SALE_D] = [21, 22, 23, 24, 25, 26].map(id) as [
  string,
  string,
  string,
  string,
  string,
  string,
];
const OLD_U = '1012411211459000001'; // UseePay intent of 30.00 USD on 10-20, refunded 30.00 and 5.00 on 11-17
const [RE_U1, RE_U2] = ['9012411211459000001', '9012411211459000002'];

const at = (iso: string) => oppwaTime(new Date(iso));
const payunity = (
  rid: string,
  type: string,
  time: string,
  amount: string | null,
  over: Record<string, unknown> = {},
) => ({
  id: rid,
  paymentType: type,
  paymentBrand: 'VISA',
  ...(amount === null ? {} : { amount, currency: 'EUR' }),
  merchantTransactionId: `ORDER-${rid.slice(-2)}`,
  result: OK,
  timestamp: at(time),
  ...over,
});
const refund = (rid: string, intent: string, amount: number, time: string) => ({
  id: rid,
  payment_intent_id: intent,
  amount,
  currency: 'USD',
  status: 'succeeded',
  reason: 'customer request',
  metadata: {},
  acquirer_reference_number: null,
  create_at: time,
  modify_at: time,
});

const data: SandboxData = {
  credentials: DEFAULT_CREDENTIALS,
  payunity: [
    payunity(SALE_A, 'DB', '2026-10-20T10:00:00Z', '60.00'),
    payunity(SALE_B, 'DB', '2026-10-20T11:00:00Z', '25.00'),
    payunity(PA_C, 'PA', '2026-10-12T10:00:00Z', '50.00'),
    payunity(CP_C, 'CP', '2026-10-13T10:00:00Z', '50.00', { referencedId: PA_C }),
    payunity(RF_A1, 'RF', '2026-11-17T09:00:00Z', '60.00', { referencedId: SALE_A }),
    payunity(RF_A2, 'RF', '2026-11-17T10:00:00Z', '10.00', { referencedId: SALE_A }),
    // Chargebacks carry no amount and no currency, exactly as OPPWA sends them.
    payunity(CB_B, 'CB', '2026-11-17T11:00:00Z', null, { referencedId: SALE_B, result: CHARGEBACK }),
    payunity(RF_C1, 'RF', '2026-11-18T09:00:00Z', '50.00', { referencedId: CP_C }),
    payunity(RF_C2, 'RF', '2026-11-18T10:00:00Z', '5.00', { referencedId: CP_C }),
    payunity(RF_GONE, 'RF', '2026-11-18T11:00:00Z', '3.00', { referencedId: GONE }),
    payunity(SALE_D, 'DB', '2026-11-17T12:00:00Z', '15.00'),
  ],
  useepay: {
    intents: [
      {
        id: OLD_U,
        merchant_order_id: 'UO-OLD',
        amount: 30,
        captured_amount: 30,
        currency: 'USD',
        status: 'succeeded',
        auto_capture: true,
        create_at: '2026-10-20T10:00:00Z',
        modify_at: '2026-10-20T10:00:00Z',
        metadata: {},
      },
    ],
    refunds: [
      refund(RE_U1, OLD_U, 30, '2026-11-17T09:00:00Z'),
      refund(RE_U2, OLD_U, 5, '2026-11-17T10:00:00Z'),
    ],
  },
};

/** Ids asked of the gateways one by one ("payunity <id>", "useepay <id>"), in the order asked. */
const askedById: string[] = [];
const counting: typeof fetch = (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const one = /\/(?:v1\/query|api\/v1\/(?:payment_intents|refunds))\/([^/]+)$/.exec(url.pathname);
  if (one)
    askedById.push(
      `${url.origin === new URL(servers.payunityUrl).origin ? 'payunity' : 'useepay'} ${one[1]}`,
    );
  return fetch(input, init);
};

beforeAll(async () => {
  db = { ...tdb, embedded: undefined, shutdown: () => tdb.close() };
  servers = await startSandboxServers(data, { now: () => new Date('2026-11-27T12:00:00Z') });
  // Last month's payments settled in last month's files.
  await insertFile(db.db, 'payunity', '2026-10-14', [{ tid: CP_C, gross: 5000 }]);
  await insertFile(db.db, 'payunity', '2026-10-21', [
    { tid: SALE_A, gross: 6000 },
    { tid: SALE_B, gross: 2500 },
  ]);
  await insertFile(db.db, 'useepay', '2026-10-21', [{ tid: OLD_U, currency: 'USD', gross: 3000 }]);
  await insertFile(db.db, 'payunity', '2026-11-18', [
    { tid: SALE_D, gross: 1500 },
    { tid: RF_A1, kind: 'refund', gross: -6000 },
    { tid: RF_A2, kind: 'refund', gross: -1000 },
  ]);
  await insertFile(db.db, 'payunity', '2026-11-19', [
    { tid: RF_C1, kind: 'refund', gross: -5000 },
    { tid: RF_C2, kind: 'refund', gross: -500 },
    { tid: RF_GONE, kind: 'refund', gross: -300 },
  ]);
  await insertFile(db.db, 'useepay', '2026-11-18', [
    { tid: RE_U1, kind: 'refund', currency: 'USD', gross: -3000 },
    { tid: RE_U2, kind: 'refund', currency: 'USD', gross: -500 },
  ]);
});
afterAll(async () => {
  await servers?.close();
});

async function run(report = false) {
  const c = DEFAULT_CREDENTIALS;
  const settlement = { source: 'local', localDir: '/tmp' };
  const pull = { trailingDays: 7 };
  const { config } = parseConfig(
    {
      timezone: 'UTC',
      reports: { dir: await mkdtemp(path.join(os.tmpdir(), 'payrecon-referenced-')) },
      providers: {
        payunity: {
          baseUrl: servers.payunityUrl,
          entityId: c.payunity.entityId,
          accessToken: c.payunity.accessToken,
          settlement,
          pull,
        },
        useepay: {
          baseUrl: servers.useepayUrl,
          merchantNo: c.useepay.merchantNo,
          appId: c.useepay.appId,
          apiKey: c.useepay.apiKey,
          settlement,
          pull,
        },
      },
    },
    {},
  );
  const log = silentLogger();
  askedById.length = 0;
  return executeRun(
    {
      db,
      config,
      log,
      signal: new AbortController().signal,
      // Every movement of 11-17 and 11-18 is past its settlement deadline.
      now: () => new Date('2026-11-27T12:00:00Z'),
      stages: defaultStages({ config, log, gateway: { fetch: counting } }),
    },
    {
      command: 'run',
      range: { from: '2026-11-16', to: '2026-11-20' },
      providers: ['payunity', 'useepay'],
      stages: { fetch: false, pull: true, report },
    },
  );
}

/** The Chargebacks sheet's rows, by its header row. */
async function chargebackRows(file: string): Promise<Record<string, unknown>[]> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  const ws = wb.getWorksheet('Chargebacks')!;
  const headers = (ws.getRow(1).values as unknown[]).slice(1) as string[];
  const rows: Record<string, unknown>[] = [];
  ws.eachRow((r, n) => {
    const values = (r.values as unknown[]).slice(1);
    if (n > 1) rows.push(Object.fromEntries(headers.map((h, i) => [h, values[i]])));
  });
  return rows;
}

async function stored(tid: string) {
  return db.db
    .selectFrom('gateway_transactions')
    .select(['gateway_type', 'root_payment_id', 'amount_minor', 'currency'])
    .where('transaction_id', '=', tid)
    .executeTakeFirst();
}

test('payments older than the pulled window are looked up by the ids their refunds and chargebacks reference', async () => {
  const result = await run(true);
  expect(result.status).toBe('succeeded');

  // The chargeback is valued at its payment; the refunds of the capture hang off the authorisation.
  expect(await stored(CB_B)).toEqual({
    gateway_type: 'CB',
    root_payment_id: SALE_B,
    amount_minor: -2500,
    currency: 'EUR',
  });
  expect((await stored(RF_C1))?.root_payment_id).toBe(PA_C);
  expect(
    (await chargebackRows(result.reportPath!)).map((r) => [
      r['Transaction ID'],
      r.Currency,
      r['Gateway amount'],
    ]),
  ).toEqual([[CB_B, 'EUR', -25]]);
  expect(await stored(GONE)).toBeUndefined();

  const open = (await openDiscrepancies(db.db))
    .map((d) => [
      d.provider,
      d.type,
      d.transaction_id,
      d.gateway_amount_minor === null ? null : Number(d.gateway_amount_minor),
      d.settled_amount_minor === null ? null : Number(d.settled_amount_minor),
      d.currency,
    ])
    .sort((a, b) => a.join(' ').localeCompare(b.join(' ')));
  expect(open).toEqual([
    ['payunity', 'missing_in_settlement', CB_B, -2500, null, 'EUR'],
    ['payunity', 'refund_exceeds_payment', SALE_A, 6000, -7000, 'EUR'],
    ['payunity', 'refund_exceeds_payment', PA_C, 5000, -5500, 'EUR'],
    ['useepay', 'refund_exceeds_payment', OLD_U, 3000, -3500, 'USD'],
  ]);

  // Each missing payment asked once; the capture's authorisation (older still) once the capture told of it; an id
  // the gateway does not know is asked too, and does not fail the run.
  expect(askedById.sort()).toEqual(
    [
      `payunity ${SALE_A}`,
      `payunity ${SALE_B}`,
      `payunity ${CP_C}`,
      `payunity ${PA_C}`,
      `payunity ${GONE}`,
      `useepay ${OLD_U}`,
    ].sort(),
  );
});

test('a rerun asks again only for what the gateway did not know, and finds the same', async () => {
  const before = await openDiscrepancies(db.db);
  const result = await run();
  expect(result.status).toBe('succeeded');
  expect(askedById).toEqual([`payunity ${GONE}`]);
  expect(result.counts).toMatchObject({ opened: 0, closed: 0 });
  expect((await openDiscrepancies(db.db)).map((d) => d.id)).toEqual(before.map((d) => d.id));
});

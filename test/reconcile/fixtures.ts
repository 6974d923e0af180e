// Hand-built reconciliation data, inserted straight into a test database through Kysely.
import { configSchema, type Config, type ProviderName } from '../../src/config/schema.js';
import type { Db } from '../../src/db/connect.js';
import type { StageContext, StageSelection } from '../../src/jobs/context.js';
import type { TestDb } from '../helpers/db.js';
import { testStageContext } from '../helpers/context.js';

export function testConfig(
  over: {
    timezone?: string;
    holidays?: string[];
    payunity?: Record<string, unknown>;
    useepay?: Record<string, unknown>;
  } = {},
): Config {
  return configSchema.parse({
    timezone: over.timezone ?? 'UTC',
    holidays: over.holidays ?? [],
    providers: {
      payunity: {
        baseUrl: 'http://127.0.0.1:1/',
        entityId: 'e',
        accessToken: 't',
        settlement: { source: 'local', localDir: '/tmp' },
        ...over.payunity,
      },
      useepay: {
        baseUrl: 'http://127.0.0.1:1/',
        merchantNo: '1',
        appId: 'a',
        apiKey: 'k',
        settlement: { source: 'local', localDir: '/tmp' },
        ...over.useepay,
      },
    },
  });
}

/** An hour of Friday 2026-11-20, the day the matcher tests settle. */
export const nov20 = (h: number) => `2026-11-20T${String(h).padStart(2, '0')}:00:00Z`;

/** A clock by which every movement of 2026-11-20 is past its deadline (payunity 3, useepay 2 business days). */
export const PAST_DEADLINES = '2026-11-30T09:00:00Z';

export function stageContext(db: TestDb, config: Config, now: string, runId: number | null): StageContext {
  return testStageContext(db, config, { now, runId });
}

export function selection(
  from: string,
  to: string,
  providers: ProviderName[] = ['payunity', 'useepay'],
): StageSelection {
  return { range: { from, to }, providers };
}

export async function newRun(db: Db): Promise<number> {
  const r = await db
    .insertInto('runs')
    .values({ command: 'test', tool_version: 'test' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return r.id;
}

export interface Gt {
  provider?: ProviderName;
  id: string;
  type?: string;
  kind?: string;
  status?: string;
  root?: string | null;
  ref?: string | null;
  mref?: string | null;
  amount?: number | null;
  currency?: string | null;
  time: string;
  brand?: string | null;
}

export async function insertGateway(db: Db, rows: Gt[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('gateway_transactions')
    .values(
      rows.map((r) => ({
        provider: r.provider ?? 'payunity',
        transaction_id: r.id,
        gateway_type: r.type ?? 'DB',
        kind: r.kind ?? 'payment',
        status: r.status ?? 'succeeded',
        root_payment_id: r.root === undefined ? r.id : r.root,
        referenced_id: r.ref ?? null,
        merchant_reference: r.mref === undefined ? `ORD-${r.id}` : r.mref,
        amount_minor: r.amount === undefined ? 1000 : r.amount,
        currency: r.currency === undefined ? 'EUR' : r.currency,
        transaction_time: r.time,
        brand: r.brand ?? null,
        result_code: null,
        raw: JSON.stringify({}),
        content_hash: 'x',
      })),
    )
    .execute();
}

export interface Line {
  kind?: 'payment' | 'refund' | 'chargeback' | 'chargeback_reversal' | 'fee' | 'adjustment';
  tid?: string | null;
  pid?: string | null;
  mref?: string | null;
  currency?: string;
  gross?: number;
  fee?: number;
  batch?: string | null;
}

let fileSeq = 0;

/** One loaded settlement file of a provider and date with the given lines (line numbers from 2, after a header). */
export async function insertFile(
  db: Db,
  provider: ProviderName,
  date: string,
  lines: Line[],
): Promise<number> {
  fileSeq++;
  const f = await db
    .insertInto('settlement_files')
    .values({
      provider,
      remote_path: `/in/${provider}_${date}_${fileSeq}.csv`,
      file_name: `${provider}_${date}_${fileSeq}.csv`,
      size: 100,
      sha256: String(fileSeq).padStart(64, '0'),
      settlement_date: date,
      profile: provider,
      status: 'loaded',
      line_count: lines.length,
      loaded_count: lines.length,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  if (lines.length > 0) {
    await db
      .insertInto('settlement_lines')
      .values(
        lines.map((l, i) => {
          const gross = l.gross ?? 1000;
          const fee = l.fee ?? 0;
          return {
            file_id: f.id,
            line_no: i + 2,
            provider,
            settlement_date: date,
            batch_id: l.batch === undefined ? 'B1' : l.batch,
            kind: l.kind ?? 'payment',
            transaction_id: l.tid === undefined ? null : l.tid,
            payment_id: l.pid ?? null,
            merchant_reference: l.mref === undefined ? (l.tid ? `ORD-${l.tid}` : null) : l.mref,
            transaction_time: null,
            currency: l.currency ?? 'EUR',
            gross_minor: gross,
            fee_minor: fee,
            net_minor: gross - fee,
            raw: 'raw',
          };
        }),
      )
      .execute();
  }
  return f.id;
}

export async function openDiscrepancies(db: Db) {
  return db
    .selectFrom('discrepancies')
    .selectAll()
    .where('status', '=', 'open')
    .orderBy('type')
    .orderBy('transaction_id')
    .execute();
}

/** Open discrepancies as "type:key" strings, sorted: compact to assert on. */
export async function openKeys(db: Db): Promise<string[]> {
  return (await openDiscrepancies(db)).map((d) => `${d.type}:${d.transaction_id}`).sort();
}

import { sql } from 'kysely';
import { refreshTables } from '../db/maintenance.js';
import type { StageContext, StageSelection } from '../jobs/context.js';
import { writeAwaiting } from './awaiting.js';
import { carryForward } from './carry.js';
import { classifyPairs, classifyUnmatched, createFound } from './classify.js';
import { classifyDuplicateCharges } from './duplicates.js';
import { classifyFees } from './fees.js';
import { heldByFile } from './held.js';
import { buildLedger, capRefundable, classifyRefundExceeds } from './ledger.js';
import { lookUpUnknown } from './lookup.js';
import { pairPlan } from './pair-plan.js';
import { matchParams, type MatchParams } from './params.js';
import { pairLines } from './pairs.js';
import { buildScope } from './scope.js';
import { exec } from './sql-util.js';
import {
  DISCREPANCY_TYPES,
  type DiscrepancyType,
  type MatchDeps,
  type MatchKey,
  type MatchSummary,
  type UnloadedSettlementFile,
} from './types.js';
import { allOrAbort } from '../shared/concurrent.js';

/**
 * The match stage (docs/matching.md): asks the gateway about unknown ids and unstored root payments, then, in one
 * transaction per provider, pairs lines with gateway records, classifies every discrepancy set-based in SQL, and
 * carries results forward.
 * Rerunning it over the same data changes nothing but last-seen run ids.
 *
 * Providers share nothing here (a line pairs only with its own provider's records; every statement is scoped by
 * provider), so each is matched in a session of its own, at the same time: the server runs a session's statements
 * one at a time on one core, and matching the providers one after the other left the other core idle (a month of
 * a million payments: 28.6 s one after the other). The first failure aborts the other provider's transaction.
 */
export async function matchRange(
  ctx: StageContext,
  sel: StageSelection,
  deps: MatchDeps = {},
  unloaded: readonly UnloadedSettlementFile[] = [],
): Promise<MatchSummary> {
  const now = ctx.now();
  const all = matchParams(ctx.config, sel, now, unloaded);
  if (all.providers.length === 0) return emptySummary({});
  const log = ctx.log.child({ stage: 'match', from: all.from, to: all.to });
  // What the loads and pulls just wrote gets statistics and visibility before the first statement reads it.
  await refreshTables(ctx.db, INPUT_TABLES, log);
  const parts = await allOrAbort(
    ctx.signal,
    all.providers.map(
      (provider) => (signal: AbortSignal) =>
        matchProvider(
          { ...ctx, signal },
          matchParams(ctx.config, { ...sel, providers: [provider] }, now, unloaded),
          deps,
          now,
        ),
    ),
  );
  // The report reads what this stage wrote, right away.
  await refreshTables(ctx.db, OUTPUT_TABLES, log);
  return mergeSummaries(parts);
}

/** One provider's matching (`p` names just that provider): its lookups, then its one transaction. */
async function matchProvider(
  ctx: StageContext,
  p: MatchParams,
  deps: MatchDeps,
  now: Date,
): Promise<MatchSummary> {
  // The child names the provider: the messages below must not name it again (a JSON line with a key twice).
  const log = ctx.log.child({ stage: 'match', provider: p.providers[0], from: p.from, to: p.to });
  // Outside any transaction: a gateway call never holds a database transaction open (house style, rule 4).
  const lookedUp = await lookUpUnknown(ctx, p, deps, log);
  ctx.signal.throwIfAborted();

  return ctx.db.transaction().execute(async (trx) => {
    const step = () => ctx.signal.throwIfAborted();
    // Sorts and hashes over a whole range of payments: memory for this transaction only; JIT does not pay off
    // for statements that run once.
    await exec(trx, sql`set local work_mem = '256MB'`);
    await exec(trx, sql`set local jit = off`);
    if ((await largeTempBuffers(trx)) === null)
      log.warn(
        'temp_buffers could not be raised on this connection (it used temporary tables before): matching a large range will spill to temporary files',
      );
    await buildScope(trx, p);
    step();
    await pairLines(trx, ctx.runId);
    step();
    await createFound(trx);
    await classifyPairs(trx);
    await classifyUnmatched(trx, p);
    await classifyFees(trx, p);
    await classifyDuplicateCharges(trx);
    step();
    await buildLedger(trx);
    await classifyRefundExceeds(trx);
    await capRefundable(trx);
    step();
    const changes = await carryForward(trx, p, ctx.runId, now);
    const awaitingSettlement = await writeAwaiting(trx, p, ctx.runId);
    const summary: MatchSummary = {
      ...(await pairPlan(trx)),
      awaitingSettlement,
      awaitingHeld: await heldByFile(trx, p),
      discrepancies: await countByType(trx),
      opened: changes.opened,
      closed: changes.closed,
      reopened: changes.reopened,
      lookedUp,
    };
    log.info({ ...summary, discrepancies: summary.discrepancies }, 'matched');
    return summary;
  });
}

/** The providers' summaries as one: counts added, per-key and per-currency figures merged. */
export function mergeSummaries(parts: readonly MatchSummary[]): MatchSummary {
  const out = emptySummary({});
  for (const s of parts) {
    out.matched += s.matched;
    for (const k of Object.keys(out.matchedByKey) as MatchKey[]) out.matchedByKey[k] += s.matchedByKey[k];
    out.awaitingSettlement.count += s.awaitingSettlement.count;
    for (const [currency, v] of Object.entries(s.awaitingSettlement.byCurrency)) {
      const cur = (out.awaitingSettlement.byCurrency[currency] ??= { count: 0, amountMinor: 0 });
      cur.count += v.count;
      cur.amountMinor += v.amountMinor;
    }
    out.awaitingHeld.push(...s.awaitingHeld);
    for (const t of DISCREPANCY_TYPES) out.discrepancies[t] += s.discrepancies[t];
    out.opened += s.opened;
    out.closed += s.closed;
    out.reopened += s.reopened;
    Object.assign(out.lookedUp, s.lookedUp);
  }
  return out;
}

// settlement_files too: a month is a few dozen rows, under autovacuum's analyze threshold (50 rows + 10%), so it was
// never analysed and the planner took every join through it for one row. The unknown-id lookup's 390,000 lines of a
// provider then went through a nested loop of index probes on one worker (1.3-1.6 s, 0.4 s by hash once analysed).
const INPUT_TABLES = [
  'settlement_files',
  'settlement_lines',
  'gateway_transactions',
  'matches',
  'discrepancies',
];
const OUTPUT_TABLES = ['matches', 'discrepancies', 'run_discrepancies'];

/**
 * The scope tables are temporary: they live in the session's local buffers, 8 MB by default, so a range of a
 * million payments would go through temporary files on every pass. temp_buffers can only change before the
 * session first touches a temporary table (pooled sessions may have); a savepoint keeps the refusal harmless.
 * Local buffers are allocated as used, and the pool closes idle sessions, so the cap costs nothing when unused.
 */
async function largeTempBuffers(trx: StageContext['db']): Promise<number | null> {
  // Twice the server's shared buffers, between 512 MB and 1.5 GB: a server given large shared buffers has the
  // memory, and a month of a million payments needs about 1 GB of scope tables (match at 1M: 28.9 s with 512 MB,
  // 25.0 s with 1.5 GB, when the tables no longer spill to temporary files).
  const { rows } = await sql<{ mb: number }>`
    select greatest(512, least(1536, 2 * pg_size_bytes(current_setting('shared_buffers')) / 1048576))::int as mb`.execute(
    trx,
  );
  const mb = rows[0]?.mb ?? 512;
  await exec(trx, sql`savepoint rc_temp_buffers`);
  try {
    await exec(trx, sql.raw(`set local temp_buffers = '${mb}MB'`));
    await exec(trx, sql`release savepoint rc_temp_buffers`);
    return mb;
  } catch {
    await exec(trx, sql`rollback to savepoint rc_temp_buffers`);
    return null;
  }
}

async function countByType(db: StageContext['db']): Promise<Record<DiscrepancyType, number>> {
  const out = Object.fromEntries(DISCREPANCY_TYPES.map((t) => [t, 0])) as Record<DiscrepancyType, number>;
  const rows = await sql<{ type: DiscrepancyType; n: number }>`
    select type, count(*)::int as n from rc_found group by type`.execute(db);
  for (const r of rows.rows) out[r.type] = r.n;
  return out;
}

function emptySummary(lookedUp: MatchSummary['lookedUp']): MatchSummary {
  return {
    matched: 0,
    matchedByKey: { transaction_id: 0, merchant_reference: 0 },
    awaitingSettlement: { count: 0, byCurrency: {} },
    awaitingHeld: [],
    discrepancies: Object.fromEntries(DISCREPANCY_TYPES.map((t) => [t, 0])) as Record<
      DiscrepancyType,
      number
    >,
    opened: 0,
    closed: 0,
    reopened: 0,
    lookedUp,
  };
}

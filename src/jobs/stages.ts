// The real stage implementations behind a run. Kept apart from run.ts so that tests can swap any stage.
import { sql } from 'kysely';
import type { Config, ProviderName } from '../config/schema.js';
import { createGatewayClient, type GatewayDeps } from '../gateways/index.js';
import { pullGateway } from '../gateways/stage.js';
import { storeTransactions } from '../gateways/store.js';
import { RecordRejectedError } from '../gateways/reject.js';
import { recordRejections } from '../gateways/rejected-store.js';
import type { GatewayClient, GatewayTransaction, RejectedRecord } from '../gateways/types.js';
import type { Db } from '../db/connect.js';
import { matchRange } from '../reconcile/match-range.js';
import { verifyRefunds } from '../refunds/verify.js';
import { writeReport } from '../report/write-report.js';
import { fetchSettlement } from '../settlement/fetch.js';
import type { Logger } from '../shared/log.js';
import type { StageContext } from './context.js';
import { findLateFiles } from './late-files.js';
import type { RunStages } from './run.js';

export interface StageDeps {
  config: Config;
  log: Logger;
  /** Adapters for the gateway clients (tests inject fetch/sleep). */
  gateway?: Omit<GatewayDeps, 'log'>;
}

/** Ids the gateway is asked about one by one, at most this many at a time. */
const LOOKUP_CONCURRENCY = 4;

export function defaultStages(deps: StageDeps): RunStages {
  const clients = new Map<ProviderName, GatewayClient>();
  const clientFor = (provider: ProviderName): GatewayClient => {
    let c = clients.get(provider);
    if (!c) {
      c = createGatewayClient(provider, deps.config, { log: deps.log, ...deps.gateway });
      clients.set(provider, c);
    }
    return c;
  };
  return {
    fetch: (ctx, provider, range) => fetchSettlement(ctx, provider, range),
    pull: (ctx, provider, range) => pullGateway(ctx, provider, range, clientFor(provider)),
    match: (ctx, sel, unloaded) =>
      matchRange(
        ctx,
        sel,
        {
          lookup: async (provider, ids, signal) =>
            void (await lookupAndStore({ ...ctx, signal }, clientFor(provider), ids)),
        },
        unloaded,
      ),
    verifyRefunds: (ctx) => verifyRefunds(ctx, { clientFor }),
    // The days each run pulls again are the days it says are still without a file, too.
    // A file left for the next fetch makes its date "arrived, not loaded", not "late".
    lateFiles: (ctx, provider, range, left) =>
      findLateFiles(
        ctx.db,
        ctx.config,
        provider,
        range,
        ctx.now(),
        ctx.config.providers[provider]?.pull.trailingDays ?? 0,
        left.flatMap((f) => (f.settlementDate !== null ? [{ ...f, settlementDate: f.settlementDate }] : [])),
      ),
    report: (ctx, runId) => writeReport(ctx, runId),
  };
}

/**
 * Asks the gateway by id about what no pull returned, and stores what it knows: settlement-line ids (a refund today
 * of a sale from last month), so matching can tell "older than the window" from "unknown to the gateway", and the
 * payments that stored refunds and chargebacks reference (that sale), so they are valued and judged. Storing walks
 * the roots and values the chargebacks of the records waiting on what arrived (gateways/derive.ts).
 */
export async function lookupAndStore(
  ctx: StageContext,
  client: GatewayClient,
  ids: readonly string[],
): Promise<number> {
  const found: GatewayTransaction[] = [];
  const answers = new Map<string, Answer>();
  const rejected: RejectedRecord[] = [];
  const queue = [...ids];
  const worker = async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      ctx.signal.throwIfAborted();
      try {
        const records = await client.lookup(id, ctx.signal);
        found.push(...records);
        answers.set(id, { records: records.length, rejected: null });
      } catch (e) {
        // A record the answer held that cannot be read is rejected, as in a pull: kept with its reason (and the
        // refunds it may concern held), and the id is treated as unknown. A failed request still fails the run.
        if (!(e instanceof RecordRejectedError)) throw e;
        // The record is the one asked for: without an id of its own it is named by that one, or nothing could
        // ever resolve it (its window is an instant no pull repeats) and the refunds it holds would stay held.
        rejected.push({ ...e.rejection, recordId: e.rejection.recordId ?? id });
        answers.set(id, { records: 0, rejected: e.rejection.reason });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(LOOKUP_CONCURRENCY, ids.length) }, worker));
  if (found.length > 0) await storeTransactions(ctx.db, ctx.runId, found);
  // Recorded once the records are stored, as a pull's windows are: the run never claims more than the tables hold.
  await ctx.db.transaction().execute(async (trx) => {
    await recordLookups(trx, ctx.runId, client.provider, ids, answers);
    // Each rejection's window is the instant it was asked; recording them (even none) also resolves the earlier
    // rejections of records this run has now stored fine.
    const byWindow = new Map<string, RejectedRecord[]>();
    for (const r of rejected) {
      const key = `${r.endpoint}\u0000${r.window.from.getTime()}`;
      byWindow.set(key, [...(byWindow.get(key) ?? []), r]);
    }
    const now = ctx.now();
    if (byWindow.size === 0)
      await recordRejections(trx, ctx.runId, client.provider, { from: now, to: now }, [], []);
    for (const group of byWindow.values())
      await recordRejections(trx, ctx.runId, client.provider, group[0]!.window, [], group);
  });
  return found.length;
}

interface Answer {
  records: number;
  rejected: string | null;
}

/** One row per id asked, in the order asked: Run info's "API lookup" rows (an id the gateway did not know: 0). */
async function recordLookups(
  db: Db,
  runId: number | null,
  provider: ProviderName,
  ids: readonly string[],
  answers: ReadonlyMap<string, Answer>,
): Promise<void> {
  const asked = ids.filter((id) => answers.has(id));
  if (asked.length === 0) return;
  await sql`
    insert into gateway_lookups (run_id, provider, transaction_id, record_count, rejected_reason)
    select ${runId}::bigint, ${provider}, i.id, i.n, i.reason
    from unnest(${asked}::text[], ${asked.map((id) => answers.get(id)?.records ?? 0)}::int[],
      ${asked.map((id) => answers.get(id)?.rejected ?? null)}::text[]) with ordinality as i(id, n, reason, k)
    order by i.k`.execute(db);
}

// The pull stage: every UTC day covering the local dates [from − trailingDays, to], page by page into Postgres, each
// window recorded.
import type pg from 'pg';
import type { ProviderName } from '../config/schema.js';
import type { StageContext } from '../jobs/context.js';
import { addDays, type DateRange } from '../shared/dates.js';
import { ConfigError } from '../shared/errors.js';
import { createGatewayClient, type GatewayDeps } from './index.js';
import { BatchBuilder, BulkStore, type PreparedBatch } from './bulk-store.js';
import { recordRejections } from './rejected-store.js';
import type { GatewayClient, PullWindow, RejectedRecord } from './types.js';
import { dateWindows } from './windows.js';

export interface PullWindowSummary {
  endpoint: string;
  from: string;
  to: string;
  records: number;
  /** Records of the window that could not be read, kept in rejected_records. */
  rejected: number;
}

export interface PullSummary {
  provider: ProviderName;
  windows: PullWindowSummary[];
  records: number;
  /** Records rejected (see reject.ts): not stored, kept in rejected_records with their reason. */
  rejected: number;
  inserted: number;
  updated: number;
  unchanged: number;
}

/**
 * Records per upsert: pages are ~100 records, and one statement per page would dominate; a few thousand amortise
 * the statement and its root walk while the batches in hand (one filling, one per lane being written) stay a few MB.
 */
const STORE_BATCH = 5000;

export interface PullOptions {
  /** Told after each day window is stored (progress display). */
  onDay?: (done: number, total: number) => void;
}

export async function pullGateway(
  ctx: StageContext,
  provider: ProviderName,
  range: DateRange,
  client: GatewayClient,
  opts: PullOptions = {},
): Promise<PullSummary> {
  const cfg = ctx.config.providers[provider];
  if (!cfg) throw new ConfigError(`providers.${provider}: not configured`);
  // Statuses change after creation and the APIs filter by creation time only: re-pull a trailing window.
  const from = addDays(range.from, -cfg.pull.trailingDays);
  const log = ctx.log.child({ stage: 'pull', provider });
  const summary: PullSummary = {
    provider,
    windows: [],
    records: 0,
    rejected: 0,
    inserted: 0,
    updated: 0,
    unchanged: 0,
  };
  // Opened lazily: no connection is held while the first pages arrive, and none at all if the gateway fails at once.
  const lanes: (BulkStore | undefined)[] = Array.from({ length: writeLanes(ctx.pool) }, () => undefined);
  const store = async (lane: number, batch: PreparedBatch, prior: Promise<unknown> | undefined) => {
    if (batch.chunks.length === 0) {
      await prior; // written after the batches before it, as a batch with rows is (BulkStore.store)
      return;
    }
    const bulk = (lanes[lane] ??= await BulkStore.open(ctx.db, ctx.pool, ctx.runId));
    const c = await bulk.store(batch, prior);
    summary.inserted += c.inserted;
    summary.updated += c.updated;
    summary.unchanged += c.unchanged;
  };
  // Records are serialised page by page as they arrive (see BatchBuilder), so this process prepares the next
  // batch while Postgres writes the ones before.
  const builder = new BatchBuilder(ctx.runId);
  // Fetching (this process's CPU) and storing (Postgres's) overlap, and so do the writes of consecutive batches,
  // each on a connection (lane) of its own: a session's statements run on one core, and a provider whose pull
  // outlasts the other's left the second core half idle (a month of a million payments: PayUnity wrote alone for
  // the last 6.5 s of 28 s, at 70% of the rate of both together). Each batch's derivations and commit still wait
  // for the batch before (BulkStore.store), so a window is recorded only after all its records, and all before
  // them, are stored.
  const writes: (Promise<void> | undefined)[] = lanes.map(() => undefined);
  let last: Promise<void> | undefined;
  let batchNo = 0;
  const submit = async (batch: PreparedBatch, then?: () => Promise<void>) => {
    const lane = batchNo++ % lanes.length;
    await writes[lane];
    const prior = last;
    const write = (async () => {
      // A key in both this batch and the one before: write this one after it (see PreparedBatch.overlapsPrevious).
      if (batch.overlapsPrevious) await prior;
      await store(lane, batch, prior);
      builder.recycle(batch);
      await then?.();
    })();
    // Observed by a later submit or the final drain; until then, keep it from being "unhandled".
    write.catch(() => undefined);
    writes[lane] = write;
    last = write;
  };
  const days = dateWindows(from, range.to, ctx.config.timezone);
  try {
    for (const [i, day] of days.entries()) {
      ctx.signal.throwIfAborted();
      const counts = new Map<string, number>();
      // A day's rejections are few (a bad record is rare), and recorded with the day's window.
      const rejected: RejectedRecord[] = [];
      for await (const page of client.pull(day, ctx.signal)) {
        counts.set(page.endpoint, (counts.get(page.endpoint) ?? 0) + page.records.length);
        if (page.rejected && page.rejected.length > 0) {
          rejected.push(...page.rejected);
          log.warn(
            {
              window: page.window.from.toISOString(),
              endpoint: page.endpoint,
              rejected: page.rejected.map((r) => ({ id: r.recordId, reason: r.reason })),
            },
            'gateway records rejected',
          );
        }
        summary.records += page.records.length;
        builder.add(page.records);
        if (builder.size >= STORE_BATCH) await submit(builder.take());
        ctx.signal.throwIfAborted();
      }
      // A window is recorded only once all its records are stored: the manifest never claims more than we hold.
      await submit(builder.take(), async () => {
        await recordWindows(ctx, provider, day, counts, rejected, summary);
        log.debug(
          { day: day.from.toISOString().slice(0, 10), counts: Object.fromEntries(counts) },
          'pulled window',
        );
        opts.onDay?.(i + 1, days.length);
      });
    }
    await last;
  } finally {
    // Never leave a write running behind a failed or aborted pull (the caller may close the pool next).
    for (const w of writes) await w?.catch(() => undefined);
    for (const b of lanes) b?.close();
  }
  log.info(
    { from, to: range.to, records: summary.records, inserted: summary.inserted, updated: summary.updated },
    'pull finished',
  );
  return summary;
}

/**
 * Connections a provider's pull writes on: two when the pool holds both providers' lanes, one more for recording
 * windows and one for the run's lock (src/db/lock.ts), else one. A pool too small for the lanes would deadlock: a
 * write waiting for a connection that a lane holds while it waits for that write.
 */
export function writeLanes(pool: pg.Pool): number {
  return (pool.options.max ?? 10) >= 2 * 2 + 2 ? 2 : 1;
}

async function recordWindows(
  ctx: StageContext,
  provider: ProviderName,
  w: PullWindow,
  counts: Map<string, number>,
  rejected: readonly RejectedRecord[],
  summary: PullSummary,
): Promise<void> {
  // An empty window still proves it was asked: the clients always yield at least one page per endpoint.
  const rows = [...counts].map(([endpoint, records]) => ({
    run_id: ctx.runId,
    provider,
    endpoint,
    window_from: w.from,
    window_to: w.to,
    record_count: records,
  }));
  if (rows.length === 0) return;
  // The window and its rejections commit together: a window recorded as pulled always has its rejections.
  await ctx.db.transaction().execute(async (trx) => {
    await trx.insertInto('pull_windows').values(rows).execute();
    await recordRejections(trx, ctx.runId, provider, w, [...counts.keys()], rejected);
  });
  summary.rejected += rejected.length;
  for (const r of rows)
    summary.windows.push({
      endpoint: r.endpoint,
      from: w.from.toISOString(),
      to: w.to.toISOString(),
      records: r.record_count,
      rejected: rejected.filter((x) => x.endpoint === r.endpoint).length,
    });
}

/** The pull stage with the configured client: what a run wires in as its `pull` stage. */
export async function pullProvider(
  ctx: StageContext,
  provider: ProviderName,
  range: DateRange,
  deps: Omit<GatewayDeps, 'log'> = {},
  opts: PullOptions = {},
): Promise<PullSummary> {
  return pullGateway(
    ctx,
    provider,
    range,
    createGatewayClient(provider, ctx.config, { log: ctx.log, ...deps }),
    opts,
  );
}

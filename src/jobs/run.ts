// A run: lock -> record -> stages -> finish. The only place that sequences stages and opens the run record.
// Stages get a StageContext; none of them is called inside an open transaction of ours, so a gateway call never
// holds a database transaction open (house style, rule 4).
import type { Config, ProviderName } from '../config/schema.js';
import { acquireRunLock } from '../db/lock.js';
import type { OpenDatabase } from '../db/open.js';
import { MIN_POOL_SIZE } from '../db/pool-size.js';
import type { DateRange } from '../shared/dates.js';
import { todayIn } from '../shared/dates.js';
import { allOrAbort } from '../shared/concurrent.js';
import { ConfigError, RunFailedError, UsageError } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import type { HeldByFile, UnloadedSettlementFile } from '../reconcile/types.js';
import { TOOL_VERSION } from '../shared/version.js';
import type { StageContext, StageSelection } from './context.js';
import type { FetchedFile } from '../settlement/fetch.js';
import { storedLeftFiles } from '../settlement/left-files.js';
import { leftForNextFetch } from './late-files.js';
import type { NotedFile, RunCounts, RunManifest, RunResult, StageName } from './manifest.js';
import { closeInterruptedRuns, rejectedLinesOf, saveProgress } from './run-record.js';
import { rejectedRecordsOf } from '../gateways/rejected-store.js';

export interface FetchOutcome {
  /** Each file as the fetch stage reports it (src/settlement/fetch.ts); the run reads what it must say about it. */
  files: (Pick<FetchedFile, 'name'> &
    Partial<
      Pick<
        FetchedFile,
        'status' | 'reason' | 'supersededFileId' | 'copyOfFileId' | 'settlementDate' | 'retryNextFetch'
      >
    >)[];
}
export interface PullOutcome {
  windows: unknown[];
  records: number;
}
export interface MatchOutcome {
  matched: number;
  awaitingSettlement: { count: number };
  /** Of those, the movements past their deadline held by a file the fetch left unloaded, per file. */
  awaitingHeld?: HeldByFile[];
  discrepancies: Record<string, number>;
  opened?: number;
  closed?: number;
  reopened?: number;
  /** Ids asked of each gateway one by one. */
  lookedUp?: Partial<Record<ProviderName, number>>;
}

/** The stage implementations a run sequences (wired in stages.ts; tests may replace any of them). */
export interface RunStages {
  fetch(ctx: StageContext, provider: ProviderName, range: DateRange): Promise<FetchOutcome>;
  pull(ctx: StageContext, provider: ProviderName, range: DateRange): Promise<PullOutcome>;
  /**
   * `unloaded`: the files left for the next fetch: those this run's fetch listed and left, and for a provider it did
   * not fetch, those the provider's last fetch left (stored, src/settlement/left-files.ts).
   */
  match(
    ctx: StageContext,
    sel: StageSelection,
    unloaded: readonly UnloadedSettlementFile[],
  ): Promise<MatchOutcome>;
  /** What the check of executed refunds found; `overdue`: refunds sent that no settlement file shows in time. */
  verifyRefunds(ctx: StageContext, sel: StageSelection): Promise<{ overdue: readonly unknown[] } | undefined>;
  /** `left`: the provider's files left for the next fetch, as handed to `match`. */
  lateFiles(
    ctx: StageContext,
    provider: ProviderName,
    range: DateRange,
    left: readonly UnloadedSettlementFile[],
  ): Promise<unknown[]>;
  report(ctx: StageContext, runId: number): Promise<string>;
}

export interface RunRequest {
  command: 'run' | 'match';
  range: DateRange;
  providers: ProviderName[];
  /** Which stages to run; `match` re-matches stored data only. */
  stages: { fetch: boolean; pull: boolean; report: boolean };
}

export interface RunEnv {
  db: OpenDatabase;
  config: Config;
  log: Logger;
  signal: AbortSignal;
  now: () => Date;
  stages: RunStages;
  /** Told when a stage starts and ends (progress display). */
  onStage?: (stage: StageName, provider: ProviderName | null, state: 'start' | 'end') => void;
}

export async function executeRun(env: RunEnv, req: RunRequest): Promise<RunResult> {
  const { db } = env;
  // The configuration refuses a smaller pool; this also covers a caller's own pool. Below the minimum a run would
  // stall, then fail with the driver's connection timeout, which names neither the pool nor the setting.
  const poolSize = db.pool.options.max ?? 10;
  if (poolSize < MIN_POOL_SIZE)
    throw new ConfigError(
      `database.poolSize: a run needs at least ${MIN_POOL_SIZE} connections and this process may open only ${poolSize}; set database.poolSize to ${MIN_POOL_SIZE} or more`,
    );
  const lock = await acquireRunLock(db.pool, `${req.command} ${req.range.from}..${req.range.to}`);
  // A run that has lost its lock stops: another may have taken it, and two runs at once are what it prevents.
  const signal = AbortSignal.any([env.signal, lock.lost]);
  try {
    // Stopped while it started (SIGTERM during start-up): no run record for a run that never began.
    signal.throwIfAborted();
    await closeInterruptedRuns(db.db, env.log);
    const asOf = todayIn(env.config.timezone, env.now());
    const manifest: RunManifest = {
      range: req.range,
      providers: req.providers,
      toolVersion: TOOL_VERSION,
      asOf,
      stages: {},
      files: [],
      windows: [],
      lateFiles: [],
    };
    const { id: runId } = await db.db
      .insertInto('runs')
      .values({
        command: req.command,
        from_date: req.range.from,
        to_date: req.range.to,
        providers: req.providers,
        tool_version: TOOL_VERSION,
        manifest: JSON.stringify(manifest),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const log = env.log.child({ runId });
    const ctx: StageContext = {
      db: db.db,
      pool: db.pool,
      config: env.config,
      log,
      signal,
      runId,
      now: env.now,
    };
    const counts: RunCounts = {
      matched: 0,
      awaitingSettlement: 0,
      rejectedLines: 0,
      rejectedRecords: 0,
      discrepancies: {},
    };
    const noted: NotedFile[] = [];
    const fetched = new Map<ProviderName, FetchOutcome>();
    let awaitingHeld: HeldByFile[] = [];
    let reportPath: string | null = null;
    log.info({ range: req.range, providers: req.providers, command: req.command }, 'run started');

    const stage = async <T>(
      name: StageName,
      provider: ProviderName | null,
      fn: () => Promise<T>,
    ): Promise<T> => {
      signal.throwIfAborted();
      const startedAt = new Date();
      env.onStage?.(name, provider, 'start');
      const key = (provider ? `${name}:${provider}` : name) as StageName;
      let status: 'succeeded' | 'failed' = 'failed';
      try {
        const out = await fn();
        status = 'succeeded';
        return out;
      } finally {
        manifest.stages[key] = {
          startedAt: startedAt.toISOString(),
          ms: Date.now() - startedAt.getTime(),
          status,
        };
        env.onStage?.(name, provider, 'end');
        log.debug({ stage: key, ms: manifest.stages[key]?.ms }, 'stage finished');
      }
    };

    try {
      // Providers are independent: each one's files load (and its API pulls) while the other's do, so the
      // server, this process and the gateways keep each other busy. Results are recorded in provider order.
      if (req.stages.fetch) {
        const outs = await eachProvider(ctx, req.providers, (c, p) =>
          stage('fetch', p, () => env.stages.fetch(c, p, req.range)),
        );
        outs.forEach((out, i) => {
          const provider = req.providers[i]!;
          fetched.set(provider, out);
          // Each with its provider: a file the fetch did not record is known from here alone (Run info lists it).
          manifest.files.push(...out.files.map((f) => ({ provider, ...f })));
          noted.push(...notedFiles(provider, out));
        });
        counts.refusedFiles = noted.filter((f) => f.what === 'refused').length;
        counts.correctedFiles = noted.filter((f) => f.what === 'corrected').length;
      }
      // The lines the workbook's Rejected lines sheet lists: a rerun that finds its files loaded says the same.
      // Counted here, so that a run failing later records them too.
      counts.rejectedLines = await rejectedLinesOf(db.db, req.providers, req.range, runId);
      if (req.stages.pull) {
        const outs = await eachProvider(ctx, req.providers, (c, p) =>
          stage('pull', p, () => env.stages.pull(c, p, req.range)),
        );
        for (const out of outs) manifest.windows.push(...out.windows);
      }
      // As the workbook lists them: this run's, and those of its dates still unresolved (a match-only run too).
      counts.rejectedRecords = await rejectedRecordsOf(
        db.db,
        runId,
        req.providers,
        req.range,
        env.config.timezone,
      );
      const sel: StageSelection = { range: req.range, providers: req.providers };
      // The files left for the next fetch hold movements awaiting and make their dates "arrived, not loaded": this
      // run's fetch's, and for a provider it did not fetch (`payrecon match`) those its last fetch left, as stored
      // (a loaded one is gone from there).
      const left = new Map<ProviderName, UnloadedSettlementFile[]>();
      for (const [p, out] of fetched) left.set(p, leftForNextFetch(p, out));
      const unfetched = req.providers.filter((p) => !fetched.has(p));
      for (const f of await storedLeftFiles(db.db, unfetched))
        left.set(f.provider, [...(left.get(f.provider) ?? []), f]);
      const unloaded = [...left.values()].flat();
      const matched = await stage('match', null, () => env.stages.match(ctx, sel, unloaded));
      counts.matched = matched.matched;
      counts.awaitingSettlement = matched.awaitingSettlement.count;
      awaitingHeld = matched.awaitingHeld ?? [];
      counts.awaitingHeld = awaitingHeld.reduce((n, h) => n + h.count, 0);
      counts.discrepancies = matched.discrepancies;
      for (const k of ['opened', 'closed', 'reopened'] as const)
        if (matched[k] !== undefined) counts[k] = matched[k];
      // Ids asked one by one, each listed in Run info ("API lookup") with what the gateway answered.
      if (matched.lookedUp !== undefined)
        counts.lookedUp = Object.values(matched.lookedUp).reduce((a: number, n) => a + (n ?? 0), 0);
      const checks = await stage('verify', null, () => env.stages.verifyRefunds(ctx, sel));
      manifest.refundChecks = checks;
      if (checks) counts.overdueRefunds = checks.overdue.length;
      for (const p of req.providers)
        manifest.lateFiles.push(...(await env.stages.lateFiles(ctx, p, req.range, left.get(p) ?? [])));
      await saveProgress(db.db, runId, manifest, counts);
      if (req.stages.report) reportPath = await stage('report', null, () => env.stages.report(ctx, runId));
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      // Recording the failure can fail too (the database that broke the stage is often the reason): that must not
      // replace the run's own error. The next run closes the record as interrupted.
      const unrecorded = await saveProgress(db.db, runId, manifest, counts, {
        status: 'failed',
        error: message,
        finished_at: new Date(),
      }).then(
        () => '',
        (saveErr: unknown) =>
          ` (and the failure could not be recorded: ${saveErr instanceof Error ? saveErr.message : String(saveErr)})`,
      );
      log.error({ err: message }, `run failed${unrecorded}`);
      if (e instanceof UsageError || e instanceof ConfigError) throw e;
      throw new RunFailedError(`run ${runId} failed: ${message}${unrecorded}`, {
        cause: e,
        runId,
        range: req.range,
      });
    }
    await saveProgress(db.db, runId, manifest, counts, {
      status: 'succeeded',
      finished_at: new Date(),
      report_path: reportPath,
    });
    log.info({ counts, reportPath }, 'run succeeded');
    return {
      runId,
      from: req.range.from,
      to: req.range.to,
      status: 'succeeded',
      reportPath,
      counts,
      providers: req.providers,
      lateFiles: manifest.lateFiles,
      files: noted,
      awaitingHeld,
    };
  } finally {
    await lock.release();
  }
}

/** What a fetch did not load as delivered, or corrected (settlement-files.md: the run says so). */
function notedFiles(provider: ProviderName, out: FetchOutcome): NotedFile[] {
  const noted: NotedFile[] = [];
  for (const f of out.files) {
    if (f.status === 'rejected' || f.status === 'refused' || f.copyOfFileId !== undefined)
      noted.push({ provider, file: f.name, what: 'refused', reason: f.reason ?? f.status ?? 'not loaded' });
    else if (f.status === 'corrected')
      noted.push({
        provider,
        file: f.name,
        what: 'corrected',
        reason: `replaces the version loaded as file ${f.supersededFileId ?? '?'}`,
      });
  }
  return noted;
}

/** `fn` for every provider at once (see allOrAbort), results in provider order. */
function eachProvider<T>(
  ctx: StageContext,
  providers: readonly ProviderName[],
  fn: (ctx: StageContext, provider: ProviderName) => Promise<T>,
): Promise<T[]> {
  return allOrAbort(
    ctx.signal,
    providers.map((p) => (signal: AbortSignal) => fn({ ...ctx, signal }, p)),
  );
}

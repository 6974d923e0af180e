// The long-running `payrecon schedule`: node-cron decides when, a child CLI process does the work, and this
// file keeps the two honest: never two runs of ours at once, a log line for every tick, a notification after
// every run, and a shutdown that lets the running child reach its safe point.
import cron, { type ScheduledTask } from 'node-cron';
import type { RunSummary } from '../notify/summary.js';
import type { Logger } from '../shared/log.js';
import type { ChildOutcome, ChildRun } from './child.js';
import { previousScheduledTime, skippedByDstJump, validateCron } from './cron-time.js';

/** Exit codes of the child (interface.md): 3 means another run held the lock. */
const EXIT_LOCKED = 3;

export interface SchedulerOptions {
  cron: string;
  timeZone: string;
  /** The payrecon arguments of each run, e.g. ['run', '--date', 'yesterday']. */
  args: string[];
  catchUp: boolean;
  log: Logger;
  /** Aborted on SIGTERM/SIGINT: stop scheduling, let the child finish, return. */
  signal: AbortSignal;
  /** Starts one child run (the real one spawns the CLI; see child.ts). */
  start: (args: string[]) => ChildRun;
  /** Called after every run that was not skipped; its failures are its own business (notifyRun never throws). */
  notify: (summary: RunSummary) => Promise<unknown>;
  /** For catch-up: did a run succeed that started at or after this instant? */
  succeededSince?: (since: Date) => Promise<boolean>;
  /** Fills in what the child's summary may lack (the providers of the run) for the notification. */
  describe?: (summary: RunSummary) => RunSummary;
  now?: () => Date;
  /** How long a running child gets after SIGTERM before it is killed (below main.ts's 30 s hard stop). */
  shutdownGraceMs?: number;
  /** How often to look for a DST jump that swallowed a scheduled time (default: every minute). */
  dstCheckMs?: number;
}

/**
 * node-cron drops a tick whose timer fires more than a second after its time (its default tolerance): a paused VM, a
 * suspended host, a clock stepped forward by NTP or a busy machine would silently cost that night's run. A run
 * started a few minutes late covers the same dates; system crons run such jobs late too. Never more than one run
 * per slot: node-cron still skips a slot once the next one has come.
 */
const MISSED_TICK_TOLERANCE_MS = 5 * 60_000;

export interface SchedulerStats {
  ticks: number;
  started: number;
  finished: number;
  skippedBusy: number;
  skippedLocked: number;
  failed: number;
  /** Runs that ended with an error after our SIGTERM. */
  interrupted: number;
}

type TickReason = 'scheduled' | 'catch-up' | 'dst-gap';

export async function runScheduler(opts: SchedulerOptions): Promise<SchedulerStats> {
  validateCron(opts.cron);
  const now = opts.now ?? (() => new Date());
  const log = opts.log.child({ component: 'schedule' });
  const stats: SchedulerStats = {
    ticks: 0,
    started: 0,
    finished: 0,
    skippedBusy: 0,
    skippedLocked: 0,
    failed: 0,
    interrupted: 0,
  };
  let current: { child: ChildRun; settled: Promise<void> } | undefined;
  /** Every run's bookkeeping and notification not yet done, the current run's and those before it. */
  const settling = new Set<Promise<void>>();
  let stopping = false;

  const tick = (reason: TickReason, scheduledFor: Date) => {
    stats.ticks += 1;
    if (stopping) return;
    if (current) {
      stats.skippedBusy += 1;
      log.info(
        { reason, scheduledFor, runningPid: current.child.pid },
        'tick skipped: the previous run is still running',
      );
      return;
    }
    let child: ChildRun;
    try {
      child = opts.start(opts.args);
    } catch (e) {
      stats.failed += 1;
      log.error({ err: e, reason, scheduledFor }, 'tick failed: could not start the run');
      return;
    }
    stats.started += 1;
    log.info({ reason, scheduledFor, pid: child.pid, args: opts.args }, 'tick started');
    const settled = child.done
      .then((outcome) => {
        // The run is over: the next tick may start while its notification is still being sent (with retries and
        // timeouts that can take a minute).
        if (current?.child === child) current = undefined;
        return finished(outcome);
      })
      .catch((e: unknown) => log.error({ err: e }, 'tick bookkeeping failed'))
      .finally(() => {
        if (current?.child === child) current = undefined;
        settling.delete(settled);
      });
    settling.add(settled);
    current = { child, settled };
  };

  const finished = async (o: ChildOutcome) => {
    const fields = { pid: o.pid, exitCode: o.exitCode, signal: o.signal, durationMs: o.durationMs };
    if (o.exitCode === EXIT_LOCKED) {
      stats.skippedLocked += 1;
      log.info(fields, 'tick skipped: another run holds the lock');
      return;
    }
    if (stopping && o.exitCode !== 0) {
      // Cut short by our own shutdown: expected, not news for finance; the next run covers the dates again.
      stats.interrupted += 1;
      log.warn(fields, 'tick finished: the run was stopped by the shutdown; no notification sent');
      return;
    }
    const summary = summarize(o, opts.args);
    if (o.exitCode === 0) {
      stats.finished += 1;
      log.info({ ...fields, runId: summary.runId, status: summary.status }, 'tick finished');
    } else {
      stats.failed += 1;
      log.error({ ...fields, runId: summary.runId, error: summary.error }, 'tick finished: the run failed');
    }
    await opts.notify(opts.describe ? opts.describe(summary) : summary);
  };

  const task: ScheduledTask = cron.createTask(opts.cron, (ctx) => tick('scheduled', ctx.date), {
    timezone: opts.timeZone,
    name: 'payrecon-schedule',
    missedExecutionTolerance: MISSED_TICK_TOLERANCE_MS,
    logger: {
      info: (m) => log.debug(m),
      warn: (m) => log.warn(m),
      error: (m, e) => log.error({ err: e ?? m }, 'cron error'),
      debug: (m) => log.debug(typeof m === 'string' ? m : { err: m }, 'cron debug'),
    },
  });

  task.on('execution:missed', (ctx) =>
    log.error(
      { scheduledFor: ctx.date },
      'tick missed: it came too late (the process was paused or the clock jumped); the next one runs as scheduled',
    ),
  );

  let catchUpDue: Date | null = null;
  if (opts.catchUp && !opts.signal.aborted) catchUpDue = await missedSlot(opts, task, now(), log);
  if (opts.signal.aborted) {
    await task.destroy();
    return stats;
  }
  await task.start();
  log.info(
    { cron: opts.cron, timeZone: opts.timeZone, args: opts.args, nextRun: task.getNextRun() },
    'scheduler started',
  );
  if (catchUpDue) tick('catch-up', catchUpDue);
  const wallMatcher = cron.createTask(opts.cron, () => undefined, { timezone: 'UTC' }); // never started: a matcher
  let lastCheck = now();
  const dstTimer = setInterval(() => {
    const at = now();
    if (skippedByDstJump(opts.cron, wallMatcher, opts.timeZone, lastCheck, at)) {
      log.info({ at }, 'daylight saving time skipped a scheduled time: running now');
      tick('dst-gap', at);
    }
    lastCheck = at;
  }, opts.dstCheckMs ?? 60_000);

  await new Promise<void>((resolve) => {
    if (opts.signal.aborted) resolve();
    else opts.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  stopping = true;
  clearInterval(dstTimer);
  await task.destroy();
  await wallMatcher.destroy();
  log.info({ running: current?.child.pid ?? null }, 'scheduler stopping');
  const running = current;
  if (running) {
    running.child.kill('SIGTERM');
    const grace = opts.shutdownGraceMs ?? 25_000;
    const inTime = await Promise.race([running.settled.then(() => true), delay(grace).then(() => false)]);
    if (!inTime) {
      log.error(
        { pid: running.child.pid, graceMs: grace },
        'run did not stop in time after SIGTERM; killing it (its lock dies with its session)',
      );
      running.child.kill('SIGKILL');
      await Promise.race([running.settled, delay(2000)]);
    }
  }
  // Notifications of runs that ended before the shutdown are sent before the process goes.
  await Promise.race([Promise.all(settling), delay(opts.shutdownGraceMs ?? 25_000)]);
  log.info(stats, 'scheduler stopped');
  return stats;
}

/**
 * The most recent scheduled time, when no run succeeded since it. A database that cannot be asked (still starting
 * at boot) costs the catch-up, not the scheduler: the next tick will try anyway.
 */
async function missedSlot(
  opts: SchedulerOptions,
  task: ScheduledTask,
  now: Date,
  log: Logger,
): Promise<Date | null> {
  const previous = previousScheduledTime(opts.cron, task, now);
  if (!previous || !opts.succeededSince) return null;
  try {
    const served = await opts.succeededSince(previous);
    log.info(
      { previous },
      served ? 'last scheduled run was served' : 'last scheduled run was missed: catching up now',
    );
    return served ? null : previous;
  } catch (e) {
    log.error({ err: e, previous }, 'catch-up check failed (database unreachable?); not catching up');
    return null;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

/** The child's --json result, or a failure summary in the same shape when it printed none. */
export function summarize(o: ChildOutcome, args: string[]): RunSummary {
  const result = (o.result ?? {}) as Partial<RunSummary>;
  const ok = o.exitCode === 0;
  const status = typeof result.status === 'string' ? result.status : ok ? 'succeeded' : 'failed';
  const summary: RunSummary = { ...result, status, exitCode: o.exitCode };
  if (!ok && summary.error === undefined) {
    summary.error =
      readableLine(o.lastErrorLine) ??
      (o.signal
        ? `the run was stopped by ${o.signal}`
        : `\`payrecon ${args.join(' ')}\` exited with code ${o.exitCode}`);
  }
  return summary;
}

/**
 * The child's last stderr line: its plain "payrecon: …" failure line, or the message of a JSON log line with the
 * error it logged ("run failed: useepay API unreachable"), which says what failed where the message does not.
 */
function readableLine(line: string | undefined): string | undefined {
  if (line === undefined) return undefined;
  if (line.startsWith('{')) {
    try {
      const { msg, err } = JSON.parse(line) as { msg?: unknown; err?: unknown };
      const why =
        typeof err === 'string'
          ? err
          : typeof (err as { message?: unknown } | null)?.message === 'string'
            ? (err as { message: string }).message
            : undefined;
      if (typeof msg === 'string') return why && !msg.includes(why) ? `${msg}: ${why}` : msg;
    } catch {
      // not a log line after all
    }
  }
  return line.replace(/^payrecon:\s*/, '');
}

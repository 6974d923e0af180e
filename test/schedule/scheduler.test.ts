// The scheduler's own logic against real child processes (a stand-in CLI), a real cron and a real database for
// catch-up. The CLI end-to-end path is in schedule-cli.test.ts.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/notify/summary.js';
import { succeededRunSince } from '../../src/schedule/catch-up.js';
import { spawnCli } from '../../src/schedule/child.js';
import { runScheduler, type SchedulerOptions } from '../../src/schedule/scheduler.js';
import { testDbPerSuite } from '../helpers/db.js';
import { FAKE_CLI_SOURCE } from './fake-cli.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'payrecon-sched-'));
const FAKE = path.join(tmp, 'fake-cli.mjs');
writeFileSync(FAKE, FAKE_CLI_SOURCE);

function harness(env: Record<string, string>, overrides: Partial<SchedulerOptions> = {}) {
  const lines: Record<string, unknown>[] = [];
  const log = pino(
    { level: 'debug' },
    new Writable({ write: (c: Buffer, _e, cb) => (lines.push(JSON.parse(c.toString())), cb()) }),
  );
  const fakeLog = path.join(tmp, `runs-${Math.random().toString(36).slice(2)}.log`);
  const childErr: string[] = [];
  const notified: RunSummary[] = [];
  const controller = new AbortController();
  const waiters: (() => void)[] = [];
  const opts: SchedulerOptions = {
    cron: '* * * * * *',
    timeZone: 'UTC',
    args: ['run', '--date', 'yesterday'],
    catchUp: false,
    log,
    signal: controller.signal,
    start: (args) =>
      spawnCli({
        execPath: process.execPath,
        binPath: FAKE,
        args,
        env: { ...process.env, ...env, FAKE_LOG: fakeLog },
        stderr: new Writable({ write: (c: Buffer, _e, cb) => (childErr.push(c.toString()), cb()) }),
      }),
    notify: (s) => {
      notified.push(s);
      waiters.splice(0).forEach((w) => w());
      return Promise.resolve();
    },
    ...overrides,
  };
  const msgs = () => lines.map((l) => l.msg);
  /** Resolves once `cond` holds (polled); fails with the log so far instead of hanging until the test timeout. */
  const until = (cond: () => boolean, ms = 20_000) =>
    new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + ms;
      const check = () => {
        if (cond()) resolve();
        else if (Date.now() > deadline) reject(new Error(`condition not met; log: ${JSON.stringify(lines)}`));
        else setTimeout(check, 50);
      };
      check();
    });
  const events = () =>
    existsSync(fakeLog)
      ? readFileSync(fakeLog, 'utf8')
          .trim()
          .split('\n')
          .map((l) => {
            const [what, pid, at] = l.split(' ');
            return { what, pid: Number(pid), at: Number(at) };
          })
      : [];
  return { opts, controller, lines, msgs, notified, until, events, childErr };
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('runScheduler', () => {
  it('starts a child per tick, passes its --json result to notify, logs every tick', async () => {
    const json = JSON.stringify({
      runId: 7,
      from: '2026-11-20',
      to: '2026-11-20',
      status: 'succeeded',
      reportPath: 'r.xlsx',
      counts: { matched: 1 },
    });
    const h = harness({ FAKE_JSON: json });
    const done = runScheduler(h.opts);
    await h.until(() => h.notified.length >= 2);
    h.controller.abort();
    const stats = await done;
    expect(h.notified[0]).toEqual({ ...(JSON.parse(json) as object), exitCode: 0 });
    expect(stats.started).toBeGreaterThanOrEqual(2);
    expect(h.msgs()).toContain('scheduler started');
    expect(h.msgs().filter((m) => m === 'tick started').length).toBe(stats.started);
    const finishedLine = h.lines.find((l) => l.msg === 'tick finished')!;
    expect(finishedLine).toMatchObject({ exitCode: 0, runId: 7, status: 'succeeded' });
    expect(typeof finishedLine.durationMs).toBe('number');
    expect(h.msgs().at(-1)).toBe('scheduler stopped');
    // The child's logs reach the scheduler's stderr.
    expect(h.childErr.join('')).toContain('fake run started');
  });

  it('skips ticks while its own run is still running: runs never overlap', async () => {
    const h = harness({ FAKE_SLEEP_MS: '2500' });
    const done = runScheduler(h.opts);
    await h.until(
      () => h.notified.length >= 1 && h.msgs().includes('tick skipped: the previous run is still running'),
    );
    h.controller.abort();
    const stats = await done;
    expect(stats.skippedBusy).toBeGreaterThanOrEqual(1);
    const ev = h.events().filter((e) => e.what !== 'sigterm');
    for (let i = 1; i < ev.length; i++) expect(ev[i]!.what).not.toBe(ev[i - 1]!.what); // start, end, start, end …
  });

  it('a slow notification does not hold the next tick back, and shutdown waits for it', async () => {
    // Each notification hangs (a webhook retrying) until the test lets it go: the next run must start while the
    // first one's is still pending, however slowly this machine runs the children.
    let release: (() => void) | undefined;
    const released = new Promise<void>((r) => (release = r));
    let sent = 0;
    const h = harness({}, { notify: () => released.then(() => void sent++) });
    const done = runScheduler(h.opts);
    await h.until(() => h.msgs().includes('tick finished'));
    const firstFinished = h.msgs().indexOf('tick finished');
    await h.until(() => h.msgs().indexOf('tick started', firstFinished) > firstFinished);
    // The second run has started while the first run's notification is still pending.
    h.controller.abort();
    await h.until(() => h.msgs().includes('scheduler stopping'));
    const stopped = await Promise.race([done.then(() => true), delay(300).then(() => false)]);
    expect(stopped).toBe(false); // still waiting for the notification
    release!();
    const stats = await done;
    expect(stats.finished).toBeGreaterThanOrEqual(1);
    expect(sent).toBe(stats.finished); // every finished run notified before the scheduler returned
  });

  it('exit code 3 (lock held elsewhere) is a skipped tick, not a failure, and is not notified', async () => {
    const h = harness({ FAKE_EXIT: '3', FAKE_STDERR: 'payrecon: skipped a run: another run holds the lock' });
    const done = runScheduler(h.opts);
    await h.until(() => h.msgs().includes('tick skipped: another run holds the lock'));
    h.controller.abort();
    const stats = await done;
    expect(stats.skippedLocked).toBeGreaterThanOrEqual(1);
    expect(stats.failed).toBe(0);
    expect(h.notified).toEqual([]);
  });

  it('a failed run is notified with a failure summary built from its last stderr line', async () => {
    const h = harness({
      FAKE_EXIT: '1',
      FAKE_STDERR: 'payrecon: PayUnity unreachable after 5 retries (check baseUrl)',
    });
    const done = runScheduler({ ...h.opts, describe: (s) => ({ ...s, providers: ['payunity'] }) });
    await h.until(() => h.notified.length >= 1);
    h.controller.abort();
    await done;
    expect(h.notified[0]).toEqual({
      status: 'failed',
      exitCode: 1,
      error: 'PayUnity unreachable after 5 retries (check baseUrl)',
      providers: ['payunity'],
    });
    expect(h.lines.find((l) => l.msg === 'tick finished: the run failed')).toMatchObject({
      exitCode: 1,
      level: 50,
    });
  });

  it("a failure summary never takes an ordinary log line or a stack frame for the run's error", async () => {
    // --verbose puts the stack trace after the one line saying what failed.
    const verbose = harness({
      FAKE_EXIT: '1',
      FAKE_STDERR: 'payrecon: database unreachable\n    at main (file:///x/main.js:1:1)',
    });
    const done = runScheduler(verbose.opts);
    await verbose.until(() => verbose.notified.length >= 1);
    verbose.controller.abort();
    await done;
    expect(verbose.notified[0]).toMatchObject({ status: 'failed', error: 'database unreachable' });

    // An error-level log line says what failed in its err, and Node dying of itself says so in its FATAL ERROR line.
    for (const [stderr, error] of [
      [
        '{"level":50,"msg":"run failed","err":"useepay API unreachable"}',
        'run failed: useepay API unreachable',
      ],
      [
        '<--- Last few GCs --->\nFATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n 1: 0xb7a940 node::Abort() [node]',
        'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory',
      ],
    ] as const) {
      const h = harness({ FAKE_EXIT: '1', FAKE_STDERR: stderr });
      const running = runScheduler(h.opts);
      await h.until(() => h.notified.length >= 1);
      h.controller.abort();
      await running;
      expect(h.notified[0]).toMatchObject({ status: 'failed', error });
    }

    // Killed mid-run (the OOM killer): its last line is an info log line, which says nothing about the failure.
    const killed = harness({ FAKE_SLEEP_MS: '60000' });
    const running = runScheduler(killed.opts);
    await killed.until(() => killed.childErr.join('').includes('fake run started'));
    const started = killed.lines.find((l) => l.msg === 'tick started')!;
    process.kill(started.pid as number, 'SIGKILL');
    await killed.until(() => killed.notified.length >= 1);
    killed.controller.abort();
    await running;
    expect(killed.notified[0]).toMatchObject({ status: 'failed', error: 'the run was stopped by SIGKILL' });
  });

  it('on shutdown forwards SIGTERM to the running child and waits for it to finish', async () => {
    const h = harness({ FAKE_SLEEP_MS: '60000', FAKE_TERM_MS: '700' });
    const done = runScheduler(h.opts);
    // Wait for the child to be up: a signal during Node's start-up simply ends it, which proves nothing here.
    await h.until(() => h.events().length > 0);
    h.controller.abort();
    const stats = await done;
    const ev = h.events();
    expect(ev.map((e) => e.what)).toEqual(['start', 'sigterm', 'end']);
    expect(stats.started).toBe(1);
    expect(h.notified).toEqual([]); // cut short by our own shutdown
    expect(stats.interrupted).toBe(1);
    expect(
      h.lines.find(
        (l) => l.msg === 'tick finished: the run was stopped by the shutdown; no notification sent',
      ),
    ).toMatchObject({ exitCode: 1, level: 40 });
  });

  it('kills a child that ignores SIGTERM once the grace period is over', async () => {
    // The signals as the scheduler sends them: a starved child may not get to record its SIGTERM before the SIGKILL.
    const signals: { signal: NodeJS.Signals; at: number }[] = [];
    const h = harness({ FAKE_SLEEP_MS: '60000', FAKE_IGNORE_TERM: '1' }, { shutdownGraceMs: 500 });
    const start = h.opts.start;
    const done = runScheduler({
      ...h.opts,
      start: (args) => {
        const run = start(args);
        return { ...run, kill: (signal) => (signals.push({ signal, at: Date.now() }), run.kill(signal)) };
      },
    });
    // Wait for the child to be up (its SIGTERM handler in place): a signal during Node's start-up simply ends it.
    await h.until(() => h.events().length > 0);
    h.controller.abort();
    await done;
    expect(signals.map((s) => s.signal)).toEqual(['SIGTERM', 'SIGKILL']);
    expect(signals[1]!.at - signals[0]!.at).toBeGreaterThanOrEqual(500);
    expect(h.events().map((e) => e.what)).not.toContain('end'); // it never stopped by itself
    expect(
      h.lines.find(
        (l) =>
          l.msg === 'run did not stop in time after SIGTERM; killing it (its lock dies with its session)',
      ),
    ).toMatchObject({
      graceMs: 500,
      level: 50,
    });
    expect(
      h.lines.find(
        (l) => l.msg === 'tick finished: the run was stopped by the shutdown; no notification sent',
      ),
    ).toMatchObject({ signal: 'SIGKILL' });
  });

  it('runs a scheduled time that a DST jump swallowed, right after the jump', async () => {
    // The clock the scheduler sees crosses 2026-03-29 02:00 Berlin (01:00Z) a minute per check.
    let fake = Date.parse('2026-03-29T00:58:30Z');
    const h = harness(
      {},
      {
        cron: '30 2 * * *',
        timeZone: 'Europe/Berlin',
        now: () => new Date((fake += 60_000)),
        dstCheckMs: 50,
      },
    );
    const done = runScheduler(h.opts);
    await h.until(() => h.notified.length >= 1);
    h.controller.abort();
    const stats = await done;
    expect(stats.started).toBe(1);
    expect(h.lines.find((l) => l.msg === 'tick started')).toMatchObject({ reason: 'dst-gap' });
  });

  it('still runs a tick whose timer fires seconds late (a paused process, a clock step)', async () => {
    // One slot a minute, a few seconds ahead: no earlier tick can start a run that would still be going (or not yet
    // be seen to have ended) when the held-back timer fires, however slow the machine.
    const slot = Math.ceil((Date.now() + 4000) / 1000) * 1000;
    const h = harness({}, { cron: `${new Date(slot).getUTCSeconds()} * * * * *` });
    const done = runScheduler(h.opts);
    await h.until(() => h.msgs().includes('scheduler started'));
    const nextRun = h.lines.find((l) => l.msg === 'scheduler started')!.nextRun as string;
    expect(Date.parse(nextRun), 'the scheduler took seconds to start').toBe(slot);
    // Hold the event loop until 2 s after the slot, as a paused VM or a stepped clock would: its timer cannot fire.
    // The timer is due later than the check that saw the start, so this loop begins before it can fire.
    while (Date.now() < slot + 2000) {
      // busy
    }
    await h.until(() => h.msgs().includes('tick started'));
    h.controller.abort();
    const stats = await done;
    const started = h.lines.find((l) => l.msg === 'tick started')!;
    expect(Date.parse(started.scheduledFor as string)).toBe(slot);
    expect(Number(started.time) - slot).toBeGreaterThanOrEqual(2000); // it did run late, and still ran
    expect(stats.started).toBe(1); // once, never twice
    expect(h.msgs()).not.toContain(
      'tick missed: it came too late (the process was paused or the clock jumped); the next one runs as scheduled',
    );
  });

  it('rejects an invalid cron expression naming the key', async () => {
    const h = harness({}, { cron: '61 * * * *' });
    await expect(runScheduler(h.opts)).rejects.toThrow(
      /schedule\.cron: invalid cron expression "61 \* \* \* \*"/,
    );
  });
});

describe('catch-up', () => {
  const db = testDbPerSuite();

  // Daily at 02:30 Berlin; "now" is 2026-11-21 09:00 Berlin, so the last slot was 2026-11-21T01:30Z.
  const now = () => new Date('2026-11-21T08:00:00Z');
  const slot = new Date('2026-11-21T01:30:00Z');
  const catchUpHarness = () =>
    harness(
      {},
      {
        cron: '30 2 * * *',
        timeZone: 'Europe/Berlin',
        catchUp: true,
        now,
        succeededSince: (since) => succeededRunSince(db.db, since),
      },
    );
  const addRun = (started: string, status: 'succeeded' | 'failed', command = 'run') =>
    db.db.insertInto('runs').values({ command, status, started_at: started, tool_version: 'test' }).execute();

  it('starts one run at once when no successful run started since the last slot', async () => {
    await addRun('2026-11-20T01:30:05Z', 'succeeded'); // served the slot before
    await addRun('2026-11-21T01:30:05Z', 'failed'); // the last slot's run failed
    await addRun('2026-11-21T03:00:00Z', 'succeeded', 'match'); // a stage command is not a run
    expect(await succeededRunSince(db.db, slot)).toBe(false);
    const h = catchUpHarness();
    const done = runScheduler(h.opts);
    await h.until(() => h.notified.length >= 1);
    h.controller.abort();
    const stats = await done;
    expect(stats.started).toBe(1);
    expect(h.lines.find((l) => l.msg === 'last scheduled run was missed: catching up now')).toMatchObject({
      previous: slot.toISOString(),
    });
    expect(h.lines.find((l) => l.msg === 'tick started')).toMatchObject({
      reason: 'catch-up',
      scheduledFor: slot.toISOString(),
    });
  });

  it('keeps scheduling when the catch-up check cannot reach the database', async () => {
    const h = harness(
      {},
      {
        cron: '30 2 * * *',
        timeZone: 'Europe/Berlin',
        catchUp: true,
        now,
        succeededSince: () => Promise.reject(new Error('connect ECONNREFUSED')),
      },
    );
    const done = runScheduler(h.opts);
    await h.until(() => h.msgs().includes('scheduler started'));
    h.controller.abort();
    const stats = await done;
    expect(stats.started).toBe(0);
    expect(
      h.lines.find((l) => l.msg === 'catch-up check failed (database unreachable?); not catching up'),
    ).toMatchObject({ level: 50 });
  });

  it('does nothing at start when the last slot was served', async () => {
    await addRun('2026-11-21T01:30:00Z', 'succeeded');
    const h = catchUpHarness();
    const done = runScheduler(h.opts);
    await h.until(() => h.msgs().includes('scheduler started'));
    h.controller.abort();
    const stats = await done;
    expect(stats.started).toBe(0);
    expect(h.msgs()).toContain('last scheduled run was served');
  });
});

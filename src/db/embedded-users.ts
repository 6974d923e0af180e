// Who uses an embedded server, so that the last process out stops it and no process stops it under another.
//
// Several payrecon processes may share one data directory's server: a cron run and a `payrecon report` typed by
// hand, or two runs started a moment apart (the second skips on the run lock, but only after it connected). Each
// process records itself in `<dataDir>.users/<pid>` while it uses the server and leaves on stop; the server stops
// when no live process is left. Starting, adopting and stopping happen under one lock, `<dataDir>.lock`
// (embedded-lock.ts), so a process never stops the server while another is between finding it and recording itself.
// A process that died without leaving (SIGKILL) is recognised by its pid no longer being alive, in both.
import { closeSync, mkdirSync, openSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DatabaseError } from '../shared/errors.js';
import { alive, breakStale, lockState, tryLock, unlock } from './embedded-lock.js';

/** How long a process waits for another to finish starting or stopping the server (a start can replay WAL). */
const LOCK_WAIT_MS = 120_000;

/** Per lock file, the end of this process's queue for it. */
const inProcess = new Map<string, Promise<void>>();
/** Per user file, how many uses of the server this process has open. */
const usesInProcess = new Map<string, number>();

export class ServerUsers {
  private readonly lockFile: string;
  private readonly usersDir: string;

  constructor(
    dataDir: string,
    private readonly pid = process.pid,
    private readonly waitMs = LOCK_WAIT_MS,
    /** Called between judging a dead holder's lock stale and breaking it: tests let another process act there. */
    private readonly beforeBreak: () => Promise<void> = () => Promise.resolve(),
  ) {
    this.lockFile = `${dataDir}.lock`;
    this.usersDir = `${dataDir}.users`;
  }

  /**
   * Runs `fn` holding the directory's lock; waits while a live process holds it. Callers in one process queue here
   * first: a lock file naming this process is one that an earlier process of the same pid left (pids repeat in
   * containers), never one this process holds.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const before = inProcess.get(this.lockFile) ?? Promise.resolve();
    const mine = before.then(() => this.acrossProcesses(fn));
    const settled = mine.then(
      () => undefined,
      () => undefined,
    );
    inProcess.set(this.lockFile, settled);
    void settled.then(() => {
      if (inProcess.get(this.lockFile) === settled) inProcess.delete(this.lockFile);
    });
    return mine;
  }

  private async acrossProcesses<T>(fn: () => Promise<T>): Promise<T> {
    mkdirSync(path.dirname(this.lockFile), { recursive: true });
    const deadline = Date.now() + this.waitMs;
    let token: string | undefined;
    for (;;) {
      const lock = lockState(this.lockFile, this.pid);
      if (lock.state === 'free') {
        token = tryLock(this.lockFile, this.pid);
        if (token !== undefined) break;
        continue;
      }
      if (lock.state === 'stale') {
        await this.beforeBreak();
        breakStale(this.lockFile, lock.entry);
        continue;
      }
      if (Date.now() >= deadline)
        throw new DatabaseError(
          `the embedded PostgreSQL is being started or stopped by ${lock.pid === 0 ? 'another process' : `process ${lock.pid}`} for more than ${Math.round(this.waitMs / 1000)} s (lock ${this.lockFile}); if no such process runs, remove that lock`,
        );
      await sleep(25 + Math.random() * 50);
    }
    try {
      return await fn();
    } finally {
      unlock(this.lockFile, token);
    }
  }

  /** Records this process as a user (once more, when it uses the server twice). Call under `exclusive`. */
  enter(): void {
    mkdirSync(this.usersDir, { recursive: true });
    closeSync(openSync(this.userFile, 'w'));
    usesInProcess.set(this.userFile, (usesInProcess.get(this.userFile) ?? 0) + 1);
  }

  /**
   * Ends one use by this process; returns the live processes that still use the server, this one included while
   * it has another use open. Call under `exclusive`.
   */
  leave(): number[] {
    const left = (usesInProcess.get(this.userFile) ?? 1) - 1;
    if (left > 0) {
      usesInProcess.set(this.userFile, left);
      return [this.pid, ...this.others()];
    }
    usesInProcess.delete(this.userFile);
    rmSync(this.userFile, { force: true });
    return this.others();
  }

  private get userFile(): string {
    return path.join(this.usersDir, String(this.pid));
  }

  /** The live processes other than this one that use the server (dead ones are removed). Call under `exclusive`. */
  others(): number[] {
    let names: string[];
    try {
      names = readdirSync(this.usersDir);
    } catch {
      return [];
    }
    const out: number[] = [];
    for (const name of names) {
      const pid = Number(name);
      if (!Number.isInteger(pid) || pid <= 0 || pid === this.pid) continue;
      if (alive(pid)) out.push(pid);
      else rmSync(path.join(this.usersDir, name), { force: true });
    }
    return out;
  }
}

// The lock that payrecon processes sharing an embedded data directory take to start, adopt or stop its server.
//
// The lock is a directory holding one file named after its holder, `<pid>-<random>`: a name no other lock ever has.
// Taking it renames a directory prepared with that file onto the lock's path, which succeeds only while no one
// holds it (the path is absent, or an empty directory: a lock being released or broken). Breaking a dead holder's
// lock unlinks the file by the very name that was judged dead, then removes the directory only if it is empty. So
// a waiter that judged a lock stale and acts late cannot break the lock another waiter took meanwhile: the name it
// judged is gone, and the new holder's directory is not empty. A lock file with a pid in it, as an earlier version
// wrote, is still honoured, and broken only by unlinking a file (never the directory that replaced it).
import { randomBytes } from 'node:crypto';
import {
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  rmdirSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';

/** An earlier version's lock file still empty after this long was left by a process that died before writing it. */
const EMPTY_LOCK_STALE_MS = 5_000;
const TOKEN = /^(\d+)-[0-9a-f]{16}$/;

export type LockState =
  | { state: 'free' }
  /** pid 0: an earlier version's holder that has not written its pid yet. */
  | { state: 'held'; pid: number }
  /** `entry` is what to unlink to break it: the dead holder's own file. */
  | { state: 'stale'; entry: string };

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Who holds the lock. A holder naming this process is one that an earlier process of the same pid left (pids repeat
 * in containers): the caller never asks while it holds the lock itself.
 */
export function lockState(lockPath: string, pid: number): LockState {
  const live = (holder: number) => Number.isInteger(holder) && holder > 0 && holder !== pid && alive(holder);
  try {
    if (lstatSync(lockPath).isDirectory()) {
      // One holder's file, or none (a lock being released or broken).
      const [name] = readdirSync(lockPath);
      if (name === undefined) return { state: 'free' };
      const holder = Number(TOKEN.exec(name)?.[1]);
      return live(holder)
        ? { state: 'held', pid: holder }
        : { state: 'stale', entry: path.join(lockPath, name) };
    }
    const text = readFileSync(lockPath, 'utf8').trim();
    if (text === '') {
      const age = Date.now() - lstatSync(lockPath).mtimeMs;
      return age > EMPTY_LOCK_STALE_MS ? { state: 'stale', entry: lockPath } : { state: 'held', pid: 0 };
    }
    const holder = Number(text);
    return live(holder) ? { state: 'held', pid: holder } : { state: 'stale', entry: lockPath };
  } catch (e) {
    // Released meanwhile (ENOENT), or changed from a file to a directory between the two looks (EISDIR): look again.
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return { state: 'free' };
    throw e;
  }
}

/** Takes the lock if no one holds it; returns the holder's name to release it by, or undefined. */
export function tryLock(lockPath: string, pid: number): string | undefined {
  const token = `${pid}-${randomBytes(8).toString('hex')}`;
  const staging = `${lockPath}.${token}`;
  mkdirSync(staging);
  writeFileSync(path.join(staging, token), `${pid}\n`);
  try {
    renameSync(staging, lockPath);
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    // Held (ENOTEMPTY, or EEXIST on some systems), or an earlier version's lock file is there (ENOTDIR).
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR') return undefined;
    throw e;
  }
  sweepStaging(lockPath, pid);
  return token;
}

/** Breaks a lock judged stale by `lockState`, unless it has been broken (and maybe taken again) meanwhile. */
export function breakStale(lockPath: string, entry: string): void {
  try {
    unlinkSync(entry);
  } catch (e) {
    // Gone: broken by another waiter. A directory (EISDIR on Linux, EPERM elsewhere): an earlier version's lock
    // file was broken and the lock taken again, which is not ours to break.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EISDIR' && code !== 'EPERM' && code !== 'ENOTDIR') throw e;
  }
  removeIfEmpty(lockPath);
}

export function unlock(lockPath: string, token: string): void {
  rmSync(path.join(lockPath, token), { force: true });
  removeIfEmpty(lockPath);
}

/** Leaves a lock someone took meanwhile (ENOTEMPTY, EEXIST) or an earlier version's lock file (ENOTDIR) alone. */
function removeIfEmpty(lockPath: string): void {
  try {
    rmdirSync(lockPath);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (!['ENOENT', 'ENOTEMPTY', 'EEXIST', 'ENOTDIR'].includes(code ?? '')) throw e;
  }
}

/** Removes directories prepared by processes that died before renaming them into place. Call holding the lock. */
function sweepStaging(lockPath: string, pid: number): void {
  const prefix = `${path.basename(lockPath)}.`;
  const dir = path.dirname(lockPath);
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(prefix)) continue;
    const holder = Number(TOKEN.exec(name.slice(prefix.length))?.[1]);
    if (!Number.isInteger(holder) || (holder !== pid && alive(holder))) continue;
    rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}

// Several processes on one embedded data directory, as a cron run and a command typed by hand share it: the last
// one out stops the server, and none stops it under another. The other processes are real ones, over the build.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { ServerUsers } from '../../src/db/embedded-users.js';
import { startEmbedded } from '../../src/db/embedded.js';
import { serverPort } from '../../src/shared/free-port.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'payrecon-embedded-'));
chmodSync(dir, 0o755); // as root, the embedded server's own user must reach its data directory
const children: ChildProcessWithoutNullStreams[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const EMBEDDED = path.resolve('dist/src/db/embedded.js');
const USERS = path.resolve('dist/src/db/embedded-users.js');

/** A process of ours that reads commands on stdin and answers with lines on stdout. */
interface Child {
  say(line: string): void;
  next(): Promise<string>;
  kill(): Promise<void>;
}

function child(code: string): Child {
  const proc = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: process.cwd() });
  children.push(proc);
  const lines: string[] = [];
  const waiting: ((l: string) => void)[] = [];
  let buffered = '';
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  proc.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
      const line = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      const w = waiting.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  return {
    say: (line) => proc.stdin.write(line + '\n'),
    next: () =>
      new Promise((resolve, reject) => {
        const l = lines.shift();
        if (l !== undefined) return resolve(l);
        waiting.push(resolve);
        proc.once('exit', (code) => reject(new Error(`child process exited ${code}: ${stderr}`)));
      }),
    kill: async () => {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * Another process using the server: it starts (or adopts) it and says `up`; on each `query` line it answers `ok` or
 * `failed`; on `stop` it leaves, says `down` and exits.
 */
function user(dataDir: string, port: number): Child {
  return child(`
    import { startEmbedded } from ${JSON.stringify(EMBEDDED)};
    import pg from 'pg';
    import readline from 'node:readline';
    const server = await startEmbedded({ dataDir: ${JSON.stringify(dataDir)}, port: ${port} });
    console.log('up');
    for await (const line of readline.createInterface({ input: process.stdin })) {
      if (line === 'query') {
        const c = new pg.Client({ connectionString: server.url });
        c.on('error', () => undefined);
        console.log(await c.connect().then(() => c.query('select 1')).then(() => 'ok', () => 'failed'));
        await c.end().catch(() => undefined);
      } else if (line === 'stop') {
        await server.stop();
        console.log('down');
        process.exit(0);
      }
    }`);
}

/**
 * Another process taking the directory's lock: while it holds it, the file \`inside\` exists and it says \`held\`; on
 * \`release\` it removes that file, then leaves the lock.
 */
function locker(dataDir: string, inside: string): Child {
  return child(`
    import { ServerUsers } from ${JSON.stringify(USERS)};
    import { rmSync, writeFileSync } from 'node:fs';
    import readline from 'node:readline';
    const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
    await new ServerUsers(${JSON.stringify(dataDir)}).exclusive(async () => {
      writeFileSync(${JSON.stringify(inside)}, String(process.pid));
      console.log('held');
      await lines.next();
      rmSync(${JSON.stringify(inside)});
    });
    console.log('released');`);
}

async function answers(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  c.on('error', () => undefined);
  try {
    await c.connect();
    await c.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

describe('an embedded server shared by several processes', () => {
  it('keeps running for this process when the process that started it stops', async () => {
    const dataDir = path.join(dir, 'a/data');
    const port = await serverPort();
    const starter = user(dataDir, port);
    expect(await starter.next()).toBe('up');
    const server = await startEmbedded({ dataDir, port });
    expect(await answers(server.url)).toBe(true);
    starter.say('stop');
    expect(await starter.next()).toBe('down');
    expect(await answers(server.url)).toBe(true);
    await server.stop();
    expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);
  });

  it('three processes started at once on a new directory share one server, stopped by the last one out', async () => {
    const dataDir = path.join(dir, 'b/data');
    const port = await serverPort();
    const all = [user(dataDir, port), user(dataDir, port), user(dataDir, port)];
    expect(await Promise.all(all.map((u) => u.next()))).toEqual(['up', 'up', 'up']);
    for (let i = 0; i < all.length; i++) {
      for (const u of all.slice(i)) u.say('query');
      expect(await Promise.all(all.slice(i).map((u) => u.next()))).toEqual(all.slice(i).map(() => 'ok'));
      all[i]!.say('stop');
      expect(await all[i]!.next()).toBe('down');
    }
    expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);
  });

  it('one process using the server twice keeps it until its last use stops, once per use', async () => {
    const dataDir = path.join(dir, 'twice/data');
    const port = await serverPort();
    const first = await startEmbedded({ dataDir, port });
    const second = await startEmbedded({ dataDir, port });
    await first.stop();
    await first.stop(); // a second stop of one use is no second use ended
    expect(await answers(second.url)).toBe(true);
    await second.stop();
    expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);
  });

  it('adopts a server whose processes were killed, and stops it when done', async () => {
    const dataDir = path.join(dir, 'c/data');
    const port = await serverPort();
    const killed = user(dataDir, port);
    expect(await killed.next()).toBe('up');
    await killed.kill();
    const server = await startEmbedded({ dataDir, port });
    expect(await answers(server.url)).toBe(true);
    await server.stop();
    expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);
  });
});

describe('ServerUsers', () => {
  it('takes the lock from a dead holder, waits for a live one, and names it when it gives up', async () => {
    const dataDir = path.join(dir, 'lock/data');
    mkdirSync(path.dirname(dataDir));
    const users = new ServerUsers(dataDir, process.pid, 300);
    // A holder that died: its pid is no longer alive.
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => dead.once('exit', r));
    writeFileSync(`${dataDir}.lock`, String(dead.pid));
    // What a process that died while taking the lock left: the directory it prepared to rename into place.
    const prepared = `${dataDir}.lock.${dead.pid}-0123456789abcdef`;
    mkdirSync(prepared);
    expect(await users.exclusive(() => Promise.resolve('ran'))).toBe('ran');
    expect(existsSync(`${dataDir}.lock`)).toBe(false);
    expect(existsSync(prepared)).toBe(false);
    // A live holder (a process of this test): refused after the wait, naming it; the lock is left alone.
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    children.push(live);
    writeFileSync(`${dataDir}.lock`, String(live.pid));
    await expect(users.exclusive(() => Promise.resolve('ran'))).rejects.toThrow(
      new RegExp(`being started or stopped by process ${live.pid} for more than 0 s`),
    );
    expect(existsSync(`${dataDir}.lock`)).toBe(true);
    rmSync(`${dataDir}.lock`);
  });

  // Two waiters judge a dead holder's lock stale; one breaks it and takes it before the other acts on its judgement.
  // The late one must not break the new lock: it waits for the new holder. `deadHolder` leaves the stale lock.
  it.each([
    [
      'a holder killed while holding it',
      async (dataDir: string) => {
        const holder = locker(dataDir, `${dataDir}.unused`);
        expect(await holder.next()).toBe('held');
        await holder.kill();
      },
    ],
    [
      'the lock file of an earlier version, whose holder died',
      async (dataDir: string) => {
        const dead = spawn(process.execPath, ['-e', '']);
        await new Promise((r) => dead.once('exit', r));
        writeFileSync(`${dataDir}.lock`, String(dead.pid));
      },
    ],
  ])(
    'two waiters on %s: the one that judged the lock stale later does not break the lock of the new holder',
    async (_, deadHolder) => {
      const dataDir = path.join(dir, `race-${randomBytes(4).toString('hex')}/data`);
      mkdirSync(path.dirname(dataDir));
      await deadHolder(dataDir);
      const inside = `${dataDir}.other-holds`;
      let other: Child | undefined;
      // Between this process judging the lock stale and breaking it, another process breaks it and takes it.
      const me = new ServerUsers(dataDir, process.pid, 20_000, async () => {
        if (other) return;
        other = locker(dataDir, inside);
        expect(await other.next()).toBe('held');
        setTimeout(() => other!.say('release'), 400);
      });
      const otherHeldMeanwhile = await me.exclusive(() => Promise.resolve(existsSync(inside)));
      expect(other).toBeDefined();
      expect(otherHeldMeanwhile).toBe(false);
      expect(await other!.next()).toBe('released');
      // Neither the lock nor a directory prepared to take it is left behind.
      expect(readdirSync(path.dirname(dataDir)).filter((n) => n.startsWith('data.lock'))).toEqual([]);
    },
  );

  it('counts live users only, and queues callers of one process', async () => {
    const dataDir = path.join(dir, 'users/data');
    const me = new ServerUsers(dataDir);
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => dead.once('exit', r));
    const ghost = new ServerUsers(dataDir, dead.pid);
    await ghost.exclusive(() => Promise.resolve(ghost.enter()));
    const order: string[] = [];
    await Promise.all([
      me.exclusive(async () => {
        me.enter();
        await new Promise((r) => setTimeout(r, 50));
        order.push('first');
      }),
      me.exclusive(() => Promise.resolve(order.push('second'))),
    ]);
    expect(order).toEqual(['first', 'second']);
    // The dead user is not counted, and is removed; this process is not among the others.
    expect(await me.exclusive(() => Promise.resolve(me.others()))).toEqual([]);
    expect(await me.exclusive(() => Promise.resolve(me.leave()))).toEqual([]);
  });
});

// `payrecon schedule` as cron or systemd would run it: the real CLI as a subprocess, its stderr parsed into log
// records as they arrive.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { BIN } from '../helpers/cli.js';
import { testDbUrl } from '../helpers/db.js';

const running = new Set<ChildProcess>();

/** For afterEach: no scheduler outlives its test. */
export function killSchedulers(): void {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  running.clear();
}

/** A configuration in `dir` for the test database `dbName`, with a `schedule` section and anything `extra`. */
export function writeConfig(
  dir: string,
  dbName: string,
  name: string,
  schedule: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    stringify({
      timezone: 'Europe/Berlin',
      database: { url: testDbUrl(dbName) },
      reports: { dir: path.join(dir, 'reports') },
      providers: {
        // Nothing listens on port 9: a scheduled run fails fast, without waiting out retries.
        payunity: {
          baseUrl: 'http://127.0.0.1:9',
          entityId: 'e',
          accessToken: 'tok-secret-1',
          pull: { retries: 0, timeoutSeconds: 2 },
          settlement: { source: 'local', localDir: path.join(dir, 'inbox') },
        },
      },
      schedule,
      ...extra,
    }),
  );
  return file;
}

/** The scheduler as cron or systemd would run it, with its stderr parsed into log records as they arrive. */
export function startScheduler(configFile: string) {
  const child = spawn(process.execPath, [BIN, 'schedule', '--config', configFile, '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.on('close', () => running.delete(child));
  const records: Record<string, unknown>[] = [];
  let stdout = '';
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    const lines = (partial + d).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) {
      try {
        records.push(JSON.parse(l));
      } catch {
        records.push({ msg: l });
      }
    }
  });
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const count = (msg: string) => records.filter((r) => r.msg === msg).length;
  const until = async (cond: () => boolean | Promise<boolean>, what: string, ms = 40_000) => {
    const deadline = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(
          `gave up waiting for ${what}; log:\n${records.map((r) => JSON.stringify(r)).join('\n')}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { child, records, count, until, exited, stdout: () => stdout };
}

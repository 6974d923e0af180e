import { loadConfigFile, resolveConfigPath, type LoadedConfig } from '../config/load.js';
import { makeScrubber, rememberSecrets } from '../config/redact.js';
import type { Config } from '../config/schema.js';
import { openDatabase, type OpenDatabase } from '../db/open.js';
import type { StageContext } from '../jobs/context.js';
import { UsageError } from '../shared/errors.js';
import { createLogger, type Logger } from '../shared/log.js';

/** Options every command accepts (interface.md, "Common options"). */
export interface CommonOptions {
  config?: string;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

/** What a command's action gets: parsed options, the process's abort signal, and output helpers. */
export interface CommandContext {
  opts: CommonOptions;
  env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM: long stages stop at their next safe point. */
  signal: AbortSignal;
  /**
   * The clock. PAYRECON_NOW (an ISO timestamp) pins it, to reproduce the lag decisions of a past run exactly (and
   * for tests); otherwise the system clock.
   */
  now: () => Date;
  log: Logger;
  /** Registers cleanup that must run even when the process is interrupted (closing pools, stopping servers). */
  onShutdown: (fn: () => Promise<void>) => () => void;
  /** Loads and validates the configuration file; re-creates `log` so it scrubs the configuration's secrets. */
  loadConfig(): LoadedConfig;
  /** Opens (and migrates) the database, closing it when the command ends or the process is interrupted. */
  withDatabase<T>(
    loaded: LoadedConfig,
    fn: (db: OpenDatabase) => Promise<T>,
    opts?: { migrate?: boolean },
  ): Promise<T>;
  /** What a stage needs, from an open database: the one place commands build it. */
  stageContext(db: OpenDatabase, config: Config, runId: number | null): StageContext;
  /** Prints the command's result: one JSON object with --json, else the human text (unless --quiet). */
  result(value: unknown, human: string | (() => string)): void;
}

export interface ContextDeps {
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  onShutdown: (fn: () => Promise<void>) => () => void;
  stdout: (text: string) => void;
}

export function logLevel(opts: CommonOptions, configured = 'info'): string {
  if (opts.verbose) return 'debug';
  if (opts.quiet) return 'warn';
  return configured;
}

function clock(pinned: string | undefined): () => Date {
  if (!pinned) return () => new Date();
  const at = new Date(pinned);
  if (Number.isNaN(at.getTime()))
    throw new UsageError(`PAYRECON_NOW="${pinned}" is not a timestamp (use e.g. 2026-11-03T12:00:00Z)`);
  return () => new Date(at);
}

export function createContext(opts: CommonOptions, deps: ContextDeps): CommandContext {
  const ctx: CommandContext = {
    opts,
    env: deps.env,
    signal: deps.signal,
    now: clock(deps.env.PAYRECON_NOW),
    log: createLogger({ level: logLevel(opts) }),
    onShutdown: deps.onShutdown,
    loadConfig() {
      const loaded = loadConfigFile(resolveConfigPath(opts.config, deps.env), deps.env);
      rememberSecrets(loaded.secrets);
      ctx.log = createLogger({
        level: logLevel(opts, loaded.config.log.level),
        scrub: makeScrubber(loaded.secrets),
      });
      return loaded;
    },
    async withDatabase(loaded, fn, dbOpts) {
      const db = await openDatabase(loaded.config, ctx.log, dbOpts);
      const unregister = deps.onShutdown(() => db.shutdown());
      try {
        return await fn(db);
      } finally {
        unregister();
        await db.shutdown();
      }
    },
    stageContext(db, config, runId) {
      const log = runId === null ? ctx.log : ctx.log.child({ runId });
      return { db: db.db, pool: db.pool, config, log, signal: ctx.signal, runId, now: ctx.now };
    },
    result(value, human) {
      // --quiet quiets the logs on stderr; the result on stdout is what the command was asked for.
      if (opts.json) deps.stdout(JSON.stringify(value) + '\n');
      else deps.stdout((typeof human === 'function' ? human() : human) + '\n');
    },
  };
  return ctx;
}

// The StageContext every test builds: its database, a config, a silent logger; run id, clock and signal as asked.
import type { Config } from '../../src/config/schema.js';
import type { StageContext } from '../../src/jobs/context.js';
import { silentLogger } from '../../src/shared/log.js';
import type { TestDb } from './db.js';

export interface ContextOptions {
  runId?: number | null;
  /** The stage's clock: a fixed instant (ISO text) or, by default, the real time. */
  now?: string;
  signal?: AbortSignal;
}

export function testStageContext(db: TestDb, config: Config, opts: ContextOptions = {}): StageContext {
  const { now } = opts;
  return {
    db: db.db,
    pool: db.pool,
    config,
    log: silentLogger(),
    signal: opts.signal ?? new AbortController().signal,
    runId: opts.runId ?? null,
    now: now === undefined ? () => new Date() : () => new Date(now),
  };
}

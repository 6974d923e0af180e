import type pg from 'pg';
import { PROVIDERS, type Config, type ProviderName } from '../config/schema.js';
import type { Db } from '../db/connect.js';
import type { DateRange } from '../shared/dates.js';
import type { Logger } from '../shared/log.js';

/**
 * What every stage (fetch, pull, match, report, refunds) receives: plain values and injectable adapters, no
 * framework. Tests pick which adapters are real.
 */
export interface StageContext {
  db: Db;
  /** The pool behind `db`, for COPY streams and advisory locks. */
  pool: pg.Pool;
  config: Config;
  log: Logger;
  /** Aborted on SIGINT/SIGTERM: stop at the next safe point, leaving the database consistent. */
  signal: AbortSignal;
  /** The run this work belongs to, or null for a stage command run outside a run record. */
  runId: number | null;
  /** The clock (tests pin it). */
  now: () => Date;
}

export interface StageSelection {
  range: DateRange;
  providers: ProviderName[];
}

/** Enabled providers, narrowed to those asked for with --provider. */
export function selectedProviders(
  config: Config,
  asked: readonly ProviderName[] | undefined,
): ProviderName[] {
  const enabled = PROVIDERS.filter((p) => config.providers[p]?.enabled);
  if (!asked || asked.length === 0) return enabled;
  return enabled.filter((p) => asked.includes(p));
}

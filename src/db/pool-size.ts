// How many connections one payrecon process may open to PostgreSQL (`database.poolSize`). Kept apart from
// connect.ts so that the configuration schema can name the bounds without loading the database driver.

/** The default: room for each provider's two write lanes side by side, the run's lock and one more (see below). */
export const DEFAULT_POOL_SIZE = 6;

/**
 * The fewest connections a run completes with, measured as well as counted: the run lock holds one for the whole
 * run (db/lock.ts), and the two providers work side by side, each holding one while it needs another at times. A
 * provider's pull writes on a lane that keeps its connection while the day's window is recorded on a second one
 * (gateways/stage.ts); with one spare both providers' recordings take turns on it, without one they would wait on
 * each other until the pool's timeout. Matching holds one transaction per provider; refund verification holds the
 * refund lock beside the run lock; the report holds its snapshot and reads the Summary's aggregates on what is
 * left, one at a time when only one is. Below this, a run would stall until a connection timeout, so it is refused.
 */
export const MIN_POOL_SIZE = 4;

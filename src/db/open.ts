import type { Config } from '../config/schema.js';
import type { Logger } from '../shared/log.js';
import { connect, ping, type DbHandle } from './connect.js';
import { startEmbedded, type EmbeddedServer } from './embedded.js';
import { migrateToLatest } from './migrate.js';

export interface OpenDatabase extends DbHandle {
  embedded: EmbeddedServer | undefined;
  /** Closes the pool, then stops the embedded server if this process owns it. */
  shutdown(): Promise<void>;
}

/** The configured server, or the embedded one; migrated to the latest schema unless told otherwise. */
export async function openDatabase(
  config: Config,
  log: Logger,
  opts: { migrate?: boolean; portSetting?: string } = {},
): Promise<OpenDatabase> {
  let embedded: EmbeddedServer | undefined;
  let url = config.database.url;
  if (!url) {
    embedded = await startEmbedded({
      dataDir: config.database.embedded.dataDir,
      port: config.database.embedded.port,
      portSetting: opts.portSetting,
      log: (msg) => log.info(msg),
    });
    url = embedded.url;
  }
  const handle = connect(url, { max: config.database.poolSize });
  const shutdown = async () => {
    await handle.close();
    await embedded?.stop();
  };
  try {
    await ping(handle);
    if (opts.migrate !== false) {
      const { applied } = await migrateToLatest(handle.db);
      if (applied.length > 0) log.info({ applied }, 'database migrated');
    }
  } catch (e) {
    await shutdown();
    throw e;
  }
  return { ...handle, embedded, shutdown };
}

import type { Command } from 'commander';
import { common, type Registrar } from '../program.js';

export function registerMigrate(program: Command, r: Registrar): void {
  common(
    program
      .command('migrate')
      .description(
        'apply database migrations (every command that needs the database also does this on start)',
      ),
  ).action(
    r.action(async (ctx) => {
      const loaded = ctx.loadConfig();
      const outcome = await ctx.withDatabase(
        loaded,
        (db) => import('../../db/migrate.js').then((m) => m.migrateToLatest(db.db)),
        { migrate: false },
      );
      ctx.result(outcome, () =>
        outcome.applied.length === 0
          ? `database is up to date (${outcome.total} migrations applied earlier); nothing to do`
          : `applied ${outcome.applied.length} migration(s): ${outcome.applied.join(', ')}`,
      );
    }),
  );
}

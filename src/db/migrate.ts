import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Migrator, sql, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely';
import { DatabaseError } from '../shared/errors.js';
import { TOOL_VERSION } from '../shared/version.js';
import type { Db } from './connect.js';

// migrations/ sits two levels above this file both in the sources (src/db) and in the build (dist/src/db).
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

/** Loads `migrations/*.ts` (sources, under vitest) or `*.js` (the build), ignoring declarations and maps. */
class FolderMigrationProvider implements MigrationProvider {
  constructor(private readonly dir: string) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const files = (await fs.readdir(this.dir))
      .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
      .sort();
    const out: Record<string, Migration> = {};
    for (const f of files) {
      out[f.replace(/\.(ts|js)$/, '')] = (await import(
        pathToFileURL(path.join(this.dir, f)).href
      )) as Migration;
    }
    return out;
  }
}

/** SQLSTATE of "must be owner of table …" and "permission denied for schema …". */
const INSUFFICIENT_PRIVILEGE = '42501';

/** The migrations not on record, in order; failing that (a role that may not even read the record), those tried. */
async function pendingMigrations(
  migrator: Migrator,
  tried: MigrationResultSet['results'],
): Promise<string[]> {
  try {
    return (await migrator.getMigrations()).filter((m) => m.executedAt === undefined).map((m) => m.name);
  } catch {
    return (tried ?? []).map((r) => r.migrationName);
  }
}

async function currentRole(db: Db): Promise<string> {
  try {
    return (
      (await sql<{ role: string }>`select current_user as role`.execute(db)).rows[0]?.role ?? '(unknown)'
    );
  } catch {
    return '(unknown)';
  }
}

export interface MigrateOutcome {
  applied: string[];
  /** Every migration known, in order. */
  total: number;
}

function migratorFor(db: Db, dir: string): Migrator {
  return new Migrator({
    db,
    provider: new FolderMigrationProvider(dir),
    migrationLockTableName: 'payrecon_migration_lock',
    migrationTableName: 'payrecon_migration',
  });
}

/** This version's migrations not yet on record in the database, in order; applies nothing. */
export async function pendingMigrationNames(db: Db, dir = MIGRATIONS_DIR): Promise<string[]> {
  return (await migratorFor(db, dir).getMigrations())
    .filter((m) => m.executedAt === undefined)
    .map((m) => m.name);
}

export async function migrateToLatest(db: Db, dir = MIGRATIONS_DIR): Promise<MigrateOutcome> {
  const migrator = migratorFor(db, dir);
  const { error, results }: MigrationResultSet = await migrator.migrateToLatest();
  if (error) {
    // A migration on record that this version does not ship: a newer payrecon migrated this database.
    const unknown = /previously executed migration (\S+) is missing/.exec((error as Error).message)?.[1];
    if (unknown)
      throw new DatabaseError(
        `the database was migrated by a newer payrecon (its migration ${unknown} is not one of this version's ${TOOL_VERSION}): use that version, or a later one`,
        { cause: error },
      );
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    // Every command migrates on start, so a role that may read and write the tables but does not own them meets a
    // pending migration as the server's bare "must be owner of table …". Say what is pending and who must apply it.
    if ((error as { code?: unknown }).code === INSUFFICIENT_PRIVILEGE) {
      const pending = await pendingMigrations(migrator, results);
      const role = await currentRole(db);
      throw new DatabaseError(
        `the database role ${role} may not apply ${pending.length === 1 ? 'the pending migration' : `the ${pending.length} pending migrations`} ` +
          `${pending.join(', ')} (${(error as Error).message}): run \`payrecon migrate\` as the role that owns payrecon's tables, then run this again`,
        { cause: error },
      );
    }
    throw new DatabaseError(
      `migration ${failed ?? ''} failed: ${(error as Error).message}`.replace('  ', ' '),
      { cause: error },
    );
  }
  const all = await migrator.getMigrations();
  return {
    applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName),
    total: all.length,
  };
}

// Migrations are frozen once landed: a database that applied one never runs it again, so an edit would leave the
// sites that ran the old text with a schema no one else has. test/db/migrations.sha256 records each landed file's
// SHA-256 (in `sha256sum` format); a change to one, a removal, or a new file not yet recorded fails here.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR } from '../../src/db/migrate.js';

const MANIFEST = path.resolve('test/db/migrations.sha256');

function recorded(): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readFileSync(MANIFEST, 'utf8').split('\n')) {
    const m = /^([0-9a-f]{64}) [ *](\S+)$/.exec(line);
    if (m) out.set(m[2]!, m[1]!);
  }
  return out;
}

/** Line endings as checked in: a checkout that turns them into CRLF has not edited a migration. */
const sha256 = (file: string): string =>
  createHash('sha256')
    .update(readFileSync(path.join(MIGRATIONS_DIR, file), 'utf8').replace(/\r\n/g, '\n'))
    .digest('hex');

describe('migrations', () => {
  it('are frozen once landed: each recorded file is unchanged, and a new one is recorded after them', () => {
    const landed = recorded();
    const files = readdirSync(MIGRATIONS_DIR)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
      .sort();
    const problems: string[] = [];
    for (const [file] of landed)
      if (!files.includes(file))
        problems.push(`${file} was removed: migrations are frozen once landed; restore it`);
    const last = [...landed.keys()].sort().at(-1) ?? '';
    for (const file of files) {
      const hash = landed.get(file);
      if (hash === undefined)
        problems.push(
          file > last
            ? `${file} is new: record it with \`(cd migrations && sha256sum ${file}) >> test/db/migrations.sha256\``
            : `${file} is new but named before the landed ${last}: give it a later timestamp (a database that ran ${last} refuses to migrate past an earlier one)`,
        );
      else if (sha256(file) !== hash)
        problems.push(
          `${file} has changed: migrations are frozen once landed; undo the edit and write a new migration with a later timestamp`,
        );
    }
    expect(problems).toEqual([]);
  });
});

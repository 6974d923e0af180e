// Temporary files that a process killed mid-write left behind (a workbook's `.tmp`, an archive download's `.part`).
// They never carry a final name, so nothing reads them, but nothing else removes them either. A writer keeps its
// file's modification time fresh, so one untouched for a long time has no writer left.
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';

/** How long a temporary file stays untouched before it counts as abandoned. */
export const STALE_AFTER_MS = 60 * 60 * 1000;

/** Removes the regular files of `dir` whose names `isTemp` accepts and that nobody wrote to for `olderThanMs`. */
export async function removeStaleTemps(
  dir: string,
  isTemp: (name: string) => boolean,
  olderThanMs = STALE_AFTER_MS,
  now = Date.now(),
): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const removed: string[] = [];
  for (const e of entries) {
    if (!e.isFile() || !isTemp(e.name)) continue;
    const file = path.join(dir, e.name);
    // Best effort: a file gone meanwhile, or one we may not remove, is left to the next look.
    const s = await stat(file).catch(() => null);
    if (!s || now - s.mtimeMs < olderThanMs) continue;
    if (
      await rm(file).then(
        () => true,
        () => false,
      )
    )
      removed.push(e.name);
  }
  return removed;
}

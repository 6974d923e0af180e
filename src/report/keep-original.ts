// A rewritten workbook never destroys the first one written for its run (docs/report.md).
import { constants } from 'node:fs';
import { access, copyFile, link, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/** Where the first workbook written for a run is kept once another replaces it: `…_run-<id>.original.xlsx`. */
export function originalReportPath(target: string): string {
  return target.replace(/\.xlsx$/, '.original.xlsx');
}

/**
 * Keeps the workbook at `target` as the run's original before a new one replaces it, unless an original is kept
 * already (then `target` is itself a rewrite, and is replaced). The first workbook is what finance worked from on
 * the night, and a rewrite reads today's data (see docs/report.md): replacing it would lose that record. A hard
 * link keeps it without a moment where `target` is missing; a copy where the file system has no links. Returns the
 * original's path when there is one. `fs`: the two file operations (tests make links fail).
 */
export async function keepFirstWorkbook(
  target: string,
  fs: { link: typeof link; copyFile: typeof copyFile } = { link, copyFile },
): Promise<string | undefined> {
  const original = originalReportPath(target);
  try {
    await fs.link(target, original);
    return original;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return original;
    if (code === 'ENOENT') return undefined; // no workbook yet: this is the first
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw e;
  }
  // The copy goes to a temporary name first: one cut short (disk full, process killed) must never stand as the
  // original. The name is one the next report removes once abandoned (see removeStaleTemps).
  const tmp = path.join(
    path.dirname(original),
    `.${path.basename(original)}.${process.pid}.${Date.now()}.tmp`,
  );
  try {
    await fs.copyFile(target, tmp, constants.COPYFILE_EXCL);
    // Not over an original that a concurrent writer kept meanwhile (rename would replace it).
    if (await exists(original)) return original;
    await rename(tmp, original);
    return original;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  } finally {
    await rm(tmp, { force: true });
  }
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

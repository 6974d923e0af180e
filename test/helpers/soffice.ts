// LibreOffice, to open and save workbooks as finance's spreadsheet application would. Tests that need it skip
// loudly when it is not installed, and fail instead under PAYRECON_REQUIRE_SOFFICE=1 (as CI runs them).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

function findSoffice(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, 'soffice');
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** The soffice executable, or undefined (after saying so) when it is not installed. */
export function requireSoffice(what: string): string | undefined {
  const found = findSoffice();
  if (!found) {
    if (process.env.PAYRECON_REQUIRE_SOFFICE === '1')
      throw new Error('soffice (LibreOffice) is required (PAYRECON_REQUIRE_SOFFICE=1) but not on PATH');
    process.stderr.write(
      `\n*** SKIPPING ${what}: soffice is not installed (set PAYRECON_REQUIRE_SOFFICE=1 to fail instead) ***\n\n`,
    );
  }
  return found;
}

/**
 * One conversion of `file` into `outDir` (`to`: csv:…, pdf, xlsx), with a private profile in `outDir`, so parallel
 * or leftover LibreOffice instances cannot interfere.
 */
export async function sofficeConvert(
  soffice: string,
  file: string,
  to: string,
  outDir: string,
): Promise<void> {
  await promisify(execFile)(
    soffice,
    [
      `-env:UserInstallation=file://${path.join(outDir, 'profile')}`,
      '--headless',
      '--convert-to',
      to,
      '--outdir',
      outDir,
      file,
    ],
    { timeout: 120_000 },
  );
}

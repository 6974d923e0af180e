// The one writer every source uses, on real files: a source that fails before it is read never crashes the process.
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appendStream, freshProgress } from '../../src/sources/write-file.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'payrecon-write-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('appendStream', () => {
  it('copies and hashes a file', async () => {
    writeFileSync(path.join(dir, 'a.csv'), 'x,y\n1,2\n');
    const progress = freshProgress();
    await appendStream(
      createReadStream(path.join(dir, 'a.csv')),
      path.join(dir, 'a.part'),
      progress,
      new AbortController().signal,
    );
    expect(progress.bytes).toBe(8);
    expect(readFileSync(path.join(dir, 'a.part'), 'utf8')).toBe('x,y\n1,2\n');
  });

  it('fails with the destination error, and no uncaught one, when neither source nor destination can be opened', async () => {
    // What a download queued behind a stopped fetch met once its folders were removed.
    const src = createReadStream(path.join(dir, 'gone.csv'));
    const err = await appendStream(
      src,
      path.join(dir, 'no-such-folder', 'gone.part'),
      freshProgress(),
      new AbortController().signal,
    ).catch((e: unknown) => e);
    expect((err as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect((err as NodeJS.ErrnoException).path).toBe(path.join(dir, 'no-such-folder', 'gone.part'));
    // The source's own failure arrives later: give it the time to surface (vitest fails the run on an uncaught one).
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(src.destroyed).toBe(true);
  });
});

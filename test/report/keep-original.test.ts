// The first workbook of a run survives rewrites: a hard link, or a copy where the file system has none.
import {
  type PathLike,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { copyFile, link } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keepFirstWorkbook, originalReportPath } from '../../src/report/keep-original.js';

let dir: string;
let target: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'payrecon-keep-'));
  target = path.join(dir, 'payrecon_2026-11-19_2026-11-20_run-7.xlsx');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const linkless = {
  link: () => Promise.reject(Object.assign(new Error('operation not permitted'), { code: 'EPERM' })),
  copyFile,
};

describe('keepFirstWorkbook', () => {
  it('keeps nothing when there is no workbook yet', async () => {
    expect(await keepFirstWorkbook(target)).toBeUndefined();
    expect(await keepFirstWorkbook(target, linkless)).toBeUndefined();
    expect(existsSync(originalReportPath(target))).toBe(false);
  });

  it('links the first workbook beside the file, once; later ones are not kept', async () => {
    writeFileSync(target, 'first');
    const original = path.join(dir, 'payrecon_2026-11-19_2026-11-20_run-7.original.xlsx');
    expect(await keepFirstWorkbook(target)).toBe(original);
    expect(statSync(original).ino).toBe(statSync(target).ino);
    rmSync(target); // what the rename of the next workbook does to the name
    writeFileSync(target, 'second');
    expect(await keepFirstWorkbook(target)).toBe(original);
    expect(readFileSync(original, 'utf8')).toBe('first');
  });

  it('copies where links are refused, and never over an original already kept', async () => {
    writeFileSync(target, 'first');
    const original = originalReportPath(target);
    expect(await keepFirstWorkbook(target, linkless)).toBe(original);
    expect(readFileSync(original, 'utf8')).toBe('first');
    expect(statSync(original).ino).not.toBe(statSync(target).ino);
    writeFileSync(target, 'second');
    expect(await keepFirstWorkbook(target, linkless)).toBe(original);
    expect(readFileSync(original, 'utf8')).toBe('first');
  });

  it('never keeps a copy cut short as the original', async () => {
    writeFileSync(target, 'first');
    const cutShort = {
      link: linkless.link,
      copyFile: (_from: PathLike, to: PathLike) => {
        writeFileSync(to, 'fir');
        return Promise.reject(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
      },
    };
    await expect(keepFirstWorkbook(target, cutShort)).rejects.toThrow('no space left');
    expect(readdirSync(dir)).toEqual([path.basename(target)]);
    expect(await keepFirstWorkbook(target, linkless)).toBe(originalReportPath(target));
    expect(readFileSync(originalReportPath(target), 'utf8')).toBe('first');
  });

  it('fails on any other error rather than replace the workbook unkept', async () => {
    writeFileSync(target, 'first');
    const broken = {
      link: () => Promise.reject(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })),
      copyFile,
    };
    await expect(keepFirstWorkbook(target, broken)).rejects.toThrow('no space left');
    expect(await keepFirstWorkbook(target, { link, copyFile })).toBe(originalReportPath(target));
  });
});

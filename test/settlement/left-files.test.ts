// The files a fetch leaves for the next fetch are stored per provider, as one set each fetch of that provider
// replaces: a file loaded or no longer listed goes, one left again is updated, another provider's are not touched.
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchSettlement } from '../../src/settlement/fetch.js';
import { replaceLeftFiles, storedLeftFiles } from '../../src/settlement/left-files.js';
import { loadSettlementFile } from '../../src/settlement/load.js';
import { testDbPerTest } from '../helpers/db.js';
import { testStageContext } from '../helpers/context.js';
import { PAYUNITY_EXAMPLE, USEEPAY_EXAMPLE, loadInput, testConfig, writeFile } from './builders.js';

const db = testDbPerTest();
const PU = 'PAYUNITY_SETTLEMENT_E1_20261121.csv';
const UE = 'useepay_settlement_500000000007245_2026-11-21.csv';
const DAY = { from: '2026-11-21', to: '2026-11-21' };
const young = (s: number, provider: string) =>
  `modified ${s} s before the fetch started, under providers.${provider}.settlement.minFileAgeSeconds (60): its upload may still be under way; not loaded; the next fetch takes it again`;

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'payrecon-left-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function setup(name: string) {
  const pu = path.join(tmp, name, 'pu');
  const ue = path.join(tmp, name, 'ue');
  const config = testConfig(path.join(tmp, name), {
    payunity: { source: 'local', localDir: pu, archiveDir: pu + '-a', minFileAgeSeconds: 60 },
    useepay: { source: 'local', localDir: ue, archiveDir: ue + '-a', minFileAgeSeconds: 60 },
  });
  writeFile(pu, PU, PAYUNITY_EXAMPLE);
  writeFile(ue, UE, USEEPAY_EXAMPLE);
  const touch = (file: string, iso: string) => utimesSync(file, new Date(iso), new Date(iso));
  return {
    config,
    puFile: path.join(pu, PU),
    ueFile: path.join(ue, UE),
    touch,
    at: (now: string) => testStageContext(db, config, { now }),
  };
}

function rows() {
  return db.db
    .selectFrom('settlement_files_left')
    .select(['provider', 'file_name', 'settlement_date', 'reason', 'first_listed_at', 'listed_at', 'run_id'])
    .orderBy('provider')
    .execute();
}

describe('the stored set of files a fetch left', () => {
  it('is replaced per provider by each fetch: loaded or unlisted files go, one left again is updated', async () => {
    const s = setup('replace');
    s.touch(s.puFile, '2026-11-22T07:59:30Z');
    s.touch(s.ueFile, '2026-11-22T07:59:50Z');
    await fetchSettlement(s.at('2026-11-22T08:00:00Z'), 'payunity', DAY);
    await fetchSettlement(s.at('2026-11-22T08:00:00Z'), 'useepay', DAY);
    const at8 = new Date('2026-11-22T08:00:00Z');
    expect(await rows()).toEqual([
      {
        provider: 'payunity',
        file_name: PU,
        settlement_date: '2026-11-21',
        reason: young(30, 'payunity'),
        first_listed_at: at8,
        listed_at: at8,
        run_id: null,
      },
      {
        provider: 'useepay',
        file_name: UE,
        settlement_date: '2026-11-21',
        reason: young(10, 'useepay'),
        first_listed_at: at8,
        listed_at: at8,
        run_id: null,
      },
    ]);
    expect(await storedLeftFiles(db.db, ['useepay'])).toEqual([
      { provider: 'useepay', settlementDate: '2026-11-21', file: UE, reason: young(10, 'useepay') },
    ]);

    // The PayUnity upload has finished: its next fetch loads the file, and its row goes. UseePay's stays as it was.
    const loaded = await fetchSettlement(s.at('2026-11-22T08:10:00Z'), 'payunity', DAY);
    expect(loaded.files.map((f) => f.status)).toEqual(['loaded']);
    const [ue] = await rows();
    expect(ue).toMatchObject({ provider: 'useepay', listed_at: at8, reason: young(10, 'useepay') });
    expect(await rows()).toHaveLength(1);

    // Left again, still being written: the same row, first listed at 08:00, now with this fetch's time and reason.
    s.touch(s.ueFile, '2026-11-22T08:09:40Z');
    await fetchSettlement(s.at('2026-11-22T08:10:00Z'), 'useepay', DAY);
    expect(await rows()).toEqual([
      expect.objectContaining({
        provider: 'useepay',
        reason: young(20, 'useepay'),
        first_listed_at: at8,
        listed_at: new Date('2026-11-22T08:10:00Z'),
      }),
    ]);
    // Twice the same: nothing changes.
    await fetchSettlement(s.at('2026-11-22T08:10:00Z'), 'useepay', DAY);
    expect(await rows()).toHaveLength(1);

    // Gone from the folder: the next fetch no longer lists it, and nothing holds for it.
    rmSync(s.ueFile);
    await fetchSettlement(s.at('2026-11-22T08:20:00Z'), 'useepay', DAY);
    expect(await rows()).toEqual([]);
  });

  it('loses a file in the transaction that loads it, whether or not the fetch completes', async () => {
    const s = setup('load');
    const input = loadInput(s.puFile, PU);
    await replaceLeftFiles(
      db.db,
      'payunity',
      [{ remotePath: input.remotePath, name: PU, settlementDate: '2026-11-21', reason: 'r' }],
      new Date('2026-11-22T08:00:00Z'),
      null,
    );
    await replaceLeftFiles(
      db.db,
      'useepay',
      [{ remotePath: input.remotePath, name: PU, settlementDate: '2026-11-21', reason: 'r' }],
      new Date('2026-11-22T08:00:00Z'),
      null,
    );
    expect((await loadSettlementFile(db.pool, input)).status).toBe('loaded');
    expect((await rows()).map((r) => r.provider)).toEqual(['useepay']);
  });
});

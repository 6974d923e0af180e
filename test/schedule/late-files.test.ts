import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { expectedSettlementDates, findLateFiles } from '../../src/jobs/late-files.js';
import { zonedTimeToInstant } from '../../src/shared/zoned-time.js';
import { testDbPerSuite } from '../helpers/db.js';

// Mon 2026-11-16 … Sun 2026-11-29; Wed 2026-11-25 is a configured holiday.
const config = parseConfig(
  {
    timezone: 'Europe/Berlin',
    holidays: ['2026-11-25'],
    providers: {
      payunity: {
        baseUrl: 'http://127.0.0.1:1',
        entityId: 'e',
        accessToken: 'tok-123456',
        settlement: { source: 'local', localDir: '/tmp/x', expectedBy: '09:30' },
      },
      useepay: {
        baseUrl: 'http://127.0.0.1:1',
        merchantNo: '1',
        appId: 'a',
        apiKey: 'key-123456',
        settlement: { source: 'local', localDir: '/tmp/y', expectedOn: 'every_day', expectedBy: '23:00' },
      },
    },
  },
  {},
).config;

const db = testDbPerSuite();
beforeAll(async () => {
  const file = (provider: string, date: string, status: 'loaded' | 'rejected' | 'superseded', n: number) => ({
    provider,
    remote_path: `/out/${provider}_${date}_${n}.csv`,
    file_name: `${provider}_${date}.csv`,
    size: 10,
    sha256: String(n).padStart(64, '0'),
    settlement_date: date,
    profile: provider,
    status,
  });
  await db.db
    .insertInto('settlement_files')
    .values([
      file('payunity', '2026-11-16', 'loaded', 1),
      file('payunity', '2026-11-17', 'rejected', 2), // arrived, though unreadable: not late
      file('payunity', '2026-11-18', 'superseded', 3),
      file('useepay', '2026-11-19', 'loaded', 4), // another provider's file does not count for payunity
      file('useepay', '2026-11-16', 'loaded', 5),
    ])
    .execute();
});

describe('expectedSettlementDates', () => {
  it('skips weekends and configured holidays for business days, keeps every day otherwise', () => {
    const range = { from: '2026-11-20', to: '2026-11-26' }; // Fri … Thu, Wed a holiday
    expect(expectedSettlementDates(config, 'payunity', range)).toEqual([
      '2026-11-20',
      '2026-11-23',
      '2026-11-24',
      '2026-11-26',
    ]);
    expect(expectedSettlementDates(config, 'useepay', range)).toHaveLength(7);
  });
});

describe('findLateFiles', () => {
  const range = { from: '2026-11-16', to: '2026-11-29' };

  it('reports business days without any recorded file whose local deadline passed', async () => {
    // Thu 2026-11-26 09:29 in Berlin (08:29 UTC): Thursday's file is not due yet.
    const now = new Date('2026-11-26T08:29:00Z');
    const late = await findLateFiles(db.db, config, 'payunity', range, now);
    expect(late.map((l) => l.settlementDate)).toEqual([
      '2026-11-19',
      '2026-11-20',
      '2026-11-23',
      '2026-11-24',
    ]);
    expect(late[0]).toEqual({
      provider: 'payunity',
      settlementDate: '2026-11-19',
      expectedBy: '2026-11-19T09:30:00+01:00',
      status: 'late',
    });
  });

  it('keeps reporting a file still missing on the nights after, back to the first file ever recorded', async () => {
    const now = new Date('2026-11-26T08:29:00Z');
    // The night of the 24th's run, looking a week back: the 19th, 20th and 23rd are still without a file.
    const late = await findLateFiles(
      db.db,
      config,
      'payunity',
      { from: '2026-11-24', to: '2026-11-24' },
      now,
      7,
    );
    expect(late.map((l) => l.settlementDate)).toEqual([
      '2026-11-19',
      '2026-11-20',
      '2026-11-23',
      '2026-11-24',
    ]);
    // Before payunity's first file (the 16th) nothing was expected of it: a new installation is not late.
    expect(
      await findLateFiles(db.db, config, 'payunity', { from: '2026-11-16', to: '2026-11-16' }, now, 7),
    ).toEqual([]);
  });

  it('says a file arrived but was not loaded, rather than late, for a date whose file the fetch left for later', async () => {
    const now = new Date('2026-11-26T08:29:00Z');
    const unloaded = [
      {
        settlementDate: '2026-11-20',
        file: 'PAYUNITY_SETTLEMENT_E_20261120.csv',
        reason: 'permission denied',
      },
      // A date that has a recorded file is not late whatever else the fetch found.
      { settlementDate: '2026-11-16', file: 'PAYUNITY_SETTLEMENT_F_20261116.csv', reason: 'gone' },
    ];
    const late = await findLateFiles(db.db, config, 'payunity', range, now, 0, unloaded);
    expect(late.map((l) => [l.settlementDate, l.status])).toEqual([
      ['2026-11-19', 'late'],
      ['2026-11-20', 'not_loaded'],
      ['2026-11-23', 'late'],
      ['2026-11-24', 'late'],
    ]);
    expect(late[1]).toEqual({
      provider: 'payunity',
      settlementDate: '2026-11-20',
      expectedBy: '2026-11-20T09:30:00+01:00',
      status: 'not_loaded',
      files: [{ file: 'PAYUNITY_SETTLEMENT_E_20261120.csv', reason: 'permission denied' }],
    });
  });

  it('a deadline passes at the configured local time, not UTC', async () => {
    const justAfter = await findLateFiles(db.db, config, 'payunity', range, new Date('2026-11-26T08:30:00Z'));
    expect(justAfter.map((l) => l.settlementDate)).toContain('2026-11-26');
  });

  it('every_day providers expect weekends and holidays too', async () => {
    const late = await findLateFiles(
      db.db,
      config,
      'useepay',
      { from: '2026-11-16', to: '2026-11-22' },
      new Date('2026-11-30T00:00:00Z'),
    );
    expect(late.map((l) => l.settlementDate)).toEqual([
      '2026-11-17',
      '2026-11-18',
      '2026-11-20',
      '2026-11-21',
      '2026-11-22',
    ]);
    expect(late[0]?.expectedBy).toBe('2026-11-17T23:00:00+01:00');
  });

  it('nothing is late before any deadline, and an unconfigured provider expects nothing', async () => {
    expect(await findLateFiles(db.db, config, 'payunity', range, new Date('2026-11-16T00:00:00Z'))).toEqual(
      [],
    );
    const onlyPayunity = { ...config, providers: { payunity: config.providers.payunity } };
    expect(
      await findLateFiles(db.db, onlyPayunity, 'useepay', range, new Date('2027-01-01T00:00:00Z')),
    ).toEqual([]);
  });
});

describe('zonedTimeToInstant', () => {
  it('follows daylight saving time', () => {
    expect(zonedTimeToInstant('2026-07-01', '09:30', 'Europe/Berlin').toISOString()).toBe(
      '2026-07-01T07:30:00.000Z',
    );
    expect(zonedTimeToInstant('2026-12-01', '09:30', 'Europe/Berlin').toISOString()).toBe(
      '2026-12-01T08:30:00.000Z',
    );
    expect(zonedTimeToInstant('2026-03-29', '12:00', 'Europe/Berlin').toISOString()).toBe(
      '2026-03-29T10:00:00.000Z',
    );
    expect(zonedTimeToInstant('2026-11-20', '23:00', 'America/New_York').toISOString()).toBe(
      '2026-11-21T04:00:00.000Z',
    );
    expect(zonedTimeToInstant('2026-11-20', '00:00', 'UTC').toISOString()).toBe('2026-11-20T00:00:00.000Z');
  });
});

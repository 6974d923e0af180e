// `config check --connect`'s look at a settlement source: what it lists is judged by the profile as a fetch would.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkReach } from '../../src/cli/commands/config-reach.js';
import { parseConfig } from '../../src/config/load.js';
import type { GatewayClient } from '../../src/gateways/types.js';
import { silentLogger } from '../../src/shared/log.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'payrecon-reach-'));
  for (const name of ['ue_20261119.csv', 'ue_20-11-2026.csv', 'ue_21-11-2026.csv', 'notes.txt'])
    writeFileSync(path.join(dir, name), 'settlement_date\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('config check --connect: a settlement source', () => {
  it("names the files whose name's date a fetch would refuse, and the setting to check", async () => {
    const { config } = parseConfig(
      {
        providers: {
          useepay: {
            baseUrl: 'http://127.0.0.1:9',
            merchantNo: '500000000007245',
            appId: 'www.pay.com',
            apiKey: 'UseePay_SK_test',
            settlement: {
              source: 'local',
              localDir: dir,
              profile: {
                filePattern: '^ue_(?<date>.+)\\.csv$',
                columns: {
                  settlementDate: 'settlement_date',
                  kind: 'k',
                  transactionId: 't',
                  currency: 'c',
                  gross: 'g',
                },
              },
            },
          },
        },
      },
      {},
    );
    const gateway = { provider: 'useepay', pull: async function* () {} } as unknown as GatewayClient;
    const checks = await checkReach(config, {
      log: silentLogger(),
      now: () => new Date('2026-11-22T10:00:00Z'),
      openDb: () => Promise.reject(new Error('no database in this test')),
      gateway: () => gateway,
    });
    const settlement = checks.find((c) => c.check === 'settlement')!;
    expect(settlement.ok).toBe(true);
    expect(settlement.detail).toBe(
      "4 file(s) listed, 3 named as the profile expects, the newest for 2026-11-19; 2 whose name's date is not " +
        'in fileDateFormat yyyyMMdd (ue_20-11-2026.csv, …), which a fetch refuses: check ' +
        'providers.useepay.settlement.profile.fileDateFormat',
    );
  });
});

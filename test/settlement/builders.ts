// Small builders for settlement files in tests (the full world generator lives in src/sandbox; not used here).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import iconv from 'iconv-lite';
import { configSchema, type Config } from '../../src/config/schema.js';
import type { StageContext } from '../../src/jobs/context.js';
import type { LoadInput } from '../../src/settlement/load.js';
import { payunityProfile } from '../../src/settlement/profiles/index.js';
import type { TestDb } from '../helpers/db.js';
import { testStageContext } from '../helpers/context.js';

export const PAYUNITY_HEADER =
  'SettlementDate;AggregationId;ReconciliationType;TransactionId;ReferencedId;MerchantTransactionId;PaymentType;TransactionDate;Currency;Amount;Fee;Net';

export interface PuLine {
  date?: string;
  type?: string;
  id?: string;
  ref?: string;
  order?: string;
  paymentType?: string;
  time?: string;
  currency?: string;
  amount: string;
  fee: string;
  net: string;
}

export function payunityLine(l: PuLine): string {
  return [
    l.date ?? '2026-11-21',
    '8a82944a4cc25ebf014cc2c782423202',
    l.type ?? 'SETTLED',
    l.id ?? '',
    l.ref ?? '',
    l.order ?? '',
    l.paymentType ?? 'DB',
    l.time ?? '2026-11-20 10:04:11',
    l.currency ?? 'EUR',
    l.amount,
    l.fee,
    l.net,
  ].join(';');
}

/** A PayUnity file; the trailer is computed from the lines unless given (or `null` for none). */
export function payunityFile(lines: string[], trailer?: string | null): string {
  let t = trailer;
  if (t === undefined) {
    let sum = 0n;
    for (const l of lines) {
      const net = l.split(';')[11] ?? '0';
      const [i = '0', f = ''] = net.replace('-', '').split('.');
      const v = BigInt(i + f.padEnd(2, '0'));
      sum += net.startsWith('-') ? -v : v;
    }
    const neg = sum < 0n;
    const abs = (neg ? -sum : sum).toString().padStart(3, '0');
    t = `TRAILER;${lines.length};${neg ? '-' : ''}${abs.slice(0, -2)}.${abs.slice(-2)}`;
  }
  return [PAYUNITY_HEADER, ...lines, ...(t === null ? [] : [t])].join('\n') + '\n';
}

export const PAYUNITY_EXAMPLE = `SettlementDate;AggregationId;ReconciliationType;TransactionId;ReferencedId;MerchantTransactionId;PaymentType;TransactionDate;Currency;Amount;Fee;Net
2026-11-21;8a82944a4cc25ebf014cc2c782423202;SETTLED;8ac7a4a089f61d980189f68341986a62;;ORD-1001;DB;2026-11-20 10:04:11;EUR;92.00;2.67;89.33
2026-11-21;8a82944a4cc25ebf014cc2c782423202;SETTLED;8ac7a4a089f61d980189f6835bdc6b1a;8ac7a4a089f61d980189f68341986a62;RF-1001-1;RF;2026-11-20 18:30:00;EUR;-10.00;0.00;-10.00
2026-11-21;8a82944a4cc25ebf014cc2c782423202;FEE;;;;;2026-11-21 00:00:00;EUR;0.00;15.00;-15.00
TRAILER;3;64.33
`;

export const USEEPAY_HEADER =
  'settlement_date,settlement_batch_id,transaction_type,transaction_id,payment_intent_id,merchant_order_id,transaction_time,currency,amount,fee,net_amount';

export const USEEPAY_EXAMPLE = `${USEEPAY_HEADER}
2026-11-21,SB-20261121-01,payment,1012411211459019141,1012411211459019141,ORD-2001,2026-11-20T09:15:02Z,USD,100.23,3.21,97.02
2026-11-21,SB-20261121-01,refund,6b4e963913f84d26a9c0e88dd5043667,1012411211459019141,ORD-2001,2026-11-20T21:00:00Z,USD,-20.00,0.00,-20.00
`;

export function writeFile(
  dir: string,
  name: string,
  content: string | Buffer,
  opts: { gzip?: boolean; encoding?: string; bom?: boolean } = {},
): string {
  mkdirSync(dir, { recursive: true });
  let bytes: Buffer =
    typeof content === 'string'
      ? opts.encoding
        ? iconv.encode(content, opts.encoding)
        : Buffer.from(content, 'utf8')
      : content;
  if (opts.bom) bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]);
  if (opts.gzip) bytes = gzipSync(bytes);
  const p = path.join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

/** A validated configuration with the given providers' settlement sections (other keys filled with test values). */
export function testConfig(dir: string, settlement: { payunity?: object; useepay?: object }): Config {
  const providers: Record<string, object> = {};
  if (settlement.payunity) {
    providers.payunity = {
      baseUrl: 'http://127.0.0.1:1',
      entityId: 'E1',
      accessToken: 'T',
      settlement: settlement.payunity,
    };
  }
  if (settlement.useepay) {
    providers.useepay = {
      baseUrl: 'http://127.0.0.1:1',
      merchantNo: '500000000007245',
      appId: 'a',
      apiKey: 'k',
      settlement: settlement.useepay,
    };
  }
  return configSchema.parse({ reports: { dir: path.join(dir, 'reports') }, providers });
}

export function stageContext(
  db: TestDb,
  config: Config,
  signal: AbortSignal = new AbortController().signal,
): StageContext {
  return testStageContext(db, config, { signal, now: '2026-11-22T08:00:00Z' });
}

/** What the fetch stage hands loadSettlementFile for a local file (settlement date 2026-11-21, no run). */
export function loadInput(file: string, name: string, profile = payunityProfile): LoadInput {
  const bytes = readFileSync(file);
  return {
    provider: profile.name,
    remotePath: `/out/${name}`,
    fileName: name,
    size: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    settlementDate: '2026-11-21',
    localPath: file,
    profile,
    runId: null,
  };
}

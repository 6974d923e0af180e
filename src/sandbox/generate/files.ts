import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { ProviderName } from '../../config/schema.js';
import { currencyExponent, formatMinor } from '../../shared/money.js';
import { clockOf, dateOf } from './calendar.js';
import { batchFeeMinor } from './fees.js';
import type { SettlementFile } from './types.js';

// Settlement files in exactly the two built-in profiles of settlement-files.md. Lines are rendered to text as they
// are added and each file becomes one Buffer as soon as no later transaction can land in it, so memory holds the
// open lag window of text, not the whole world as objects.

export type LineKind = 'payment' | 'refund' | 'chargeback' | 'chargeback_reversal';

export interface LineSpec {
  provider: ProviderName;
  settlementDate: string;
  kind: LineKind;
  /** PayUnity PaymentType (DB, CP, RF, CB, CR); ignored for UseePay. */
  gatewayType: string;
  /** Empty for a line written without its id (matched by merchant reference). */
  transactionId: string;
  /** PayUnity ReferencedId (root payment, empty for a DB); UseePay payment_intent_id. */
  rootId: string;
  merchantReference: string;
  timeMs: number;
  currency: string;
  grossMinor: number;
  feeMinor: number;
}

export interface FileOptions {
  entityId: string;
  merchantNo: string;
  currencies: readonly string[];
  gzip: boolean | 'some';
  useepayBom: boolean | 'some';
}

const PAYUNITY_HEADER =
  'SettlementDate;AggregationId;ReconciliationType;TransactionId;ReferencedId;MerchantTransactionId;PaymentType;TransactionDate;Currency;Amount;Fee;Net';
const USEEPAY_HEADER =
  'settlement_date,settlement_batch_id,transaction_type,transaction_id,payment_intent_id,merchant_order_id,transaction_time,currency,amount,fee,net_amount';
const RECONCILIATION_TYPE: Record<LineKind, string> = {
  payment: 'SETTLED',
  refund: 'SETTLED',
  chargeback: 'CHARGEBACK',
  chargeback_reversal: 'CHARGEBACK REVERSAL',
};

interface Batch {
  lines: string[];
  netMinor: number;
}

function csvField(value: string, delimiter: string): string {
  return value.includes(delimiter) || value.includes('"') || /[\r\n]/.test(value)
    ? `"${value.replace(/"/g, '""')}"`
    : value;
}

export function payunityFileName(entityId: string, date: string, gz: boolean): string {
  return `PAYUNITY_SETTLEMENT_${entityId}_${date.replace(/-/g, '')}.csv${gz ? '.gz' : ''}`;
}

export function useepayFileName(merchantNo: string, date: string, gz: boolean): string {
  return `useepay_settlement_${merchantNo}_${date}.csv${gz ? '.gz' : ''}`;
}

export class FileBook {
  readonly files: SettlementFile[] = [];
  lineCount = 0;
  private readonly pending = new Map<string, Map<string, Batch>>();
  private readonly fileIndex: Record<ProviderName, number> = { payunity: 0, useepay: 0 };
  private readonly batchIds = new Map<string, string>();

  constructor(private readonly opts: FileOptions) {}

  add(line: LineSpec): void {
    const fileKey = `${line.settlementDate}|${line.provider}`;
    let batches = this.pending.get(fileKey);
    if (!batches) this.pending.set(fileKey, (batches = new Map<string, Batch>()));
    let batch = batches.get(line.currency);
    if (!batch) batches.set(line.currency, (batch = { lines: [], netMinor: 0 }));
    const net = line.grossMinor - line.feeMinor;
    batch.lines.push(this.render(line, net));
    batch.netMinor += net;
    this.lineCount++;
  }

  /** Renders every file dated on or before `date`: nothing can be added to them any more. */
  flushUpTo(date: string): void {
    const keys = [...this.pending.keys()].filter((k) => k.slice(0, 10) <= date).sort();
    for (const key of keys) {
      const [settlementDate = '', provider = ''] = key.split('|');
      const batches = this.pending.get(key);
      this.pending.delete(key);
      if (batches) this.files.push(this.finish(provider as ProviderName, settlementDate, batches));
    }
  }

  flushAll(): void {
    this.flushUpTo('9999-12-31');
  }

  private batchId(provider: ProviderName, date: string, currency: string): string {
    const key = `${provider}|${date}|${currency}`;
    let id = this.batchIds.get(key);
    if (id === undefined) this.batchIds.set(key, (id = this.newBatchId(provider, date, currency)));
    return id;
  }

  private newBatchId(provider: ProviderName, date: string, currency: string): string {
    if (provider === 'payunity') {
      return createHash('sha256')
        .update(`agg|${this.opts.entityId}|${date}|${currency}`)
        .digest('hex')
        .slice(0, 32);
    }
    const n = this.opts.currencies.indexOf(currency) + 1;
    return `SB-${date.replace(/-/g, '')}-${String(n).padStart(2, '0')}`;
  }

  private render(l: LineSpec, net: number): string {
    const day = dateOf(l.timeMs);
    const clock = clockOf(l.timeMs);
    const gross = formatMinor(l.grossMinor, l.currency);
    const fee = formatMinor(l.feeMinor, l.currency);
    const netText = formatMinor(net, l.currency);
    const batch = this.batchId(l.provider, l.settlementDate, l.currency);
    if (l.provider === 'payunity') {
      const time = `${day} ${clock}`;
      return [
        l.settlementDate,
        batch,
        RECONCILIATION_TYPE[l.kind],
        l.transactionId,
        l.rootId,
        csvField(l.merchantReference, ';'),
        l.gatewayType,
        time,
        l.currency,
        gross,
        fee,
        netText,
      ].join(';');
    }
    const time = `${day}T${clock}Z`;
    return [
      l.settlementDate,
      batch,
      l.kind,
      l.transactionId,
      l.rootId,
      csvField(l.merchantReference, ','),
      time,
      l.currency,
      gross,
      fee,
      netText,
    ].join(',');
  }

  private feeRow(provider: ProviderName, date: string, currency: string, feeMinor: number): string {
    const zero = formatMinor(0, currency);
    const fee = formatMinor(feeMinor, currency);
    const net = formatMinor(-feeMinor, currency);
    const batch = this.batchId(provider, date, currency);
    return provider === 'payunity'
      ? [date, batch, 'FEE', '', '', '', '', `${date} 00:00:00`, currency, zero, fee, net].join(';')
      : [date, batch, 'fee', '', '', '', `${date}T00:00:00Z`, currency, zero, fee, net].join(',');
  }

  private finish(provider: ProviderName, date: string, batches: Map<string, Batch>): SettlementFile {
    const index = this.fileIndex[provider]++;
    const out: string[] = [provider === 'payunity' ? PAYUNITY_HEADER : USEEPAY_HEADER];
    // Batches in the world's currency order, so the bytes do not depend on which currency happened to come first.
    const currencies = [...batches.keys()].sort(
      (a, b) => this.opts.currencies.indexOf(a) - this.opts.currencies.indexOf(b),
    );
    let count = 0;
    const nets: [string, number][] = [];
    for (const currency of currencies) {
      const batch = batches.get(currency);
      if (!batch) continue;
      const fee = batchFeeMinor(currency);
      // A loop, not push(...lines): a batch can hold more lines than a call may take arguments.
      for (const line of batch.lines) out.push(line);
      out.push(this.feeRow(provider, date, currency, fee));
      count += batch.lines.length + 1;
      nets.push([currency, batch.netMinor - fee]);
    }
    if (provider === 'payunity') out.push(`TRAILER;${count};${sumOfNet(nets)}`);
    let content = Buffer.from(`${out.join('\n')}\n`, 'utf8');
    const bom = this.opts.useepayBom === true || (this.opts.useepayBom === 'some' && index % 2 === 0);
    if (provider === 'useepay' && bom) content = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), content]);
    const gz = this.opts.gzip === true || (this.opts.gzip === 'some' && index % 3 === 1);
    if (gz) content = gzipSync(content);
    const name =
      provider === 'payunity'
        ? payunityFileName(this.opts.entityId, date, gz)
        : useepayFileName(this.opts.merchantNo, date, gz);
    return { provider, settlementDate: date, name, content };
  }
}

/**
 * The trailer's `<sum of Net>`: the exact decimal sum of the Net column as written (major units), with two decimals,
 * or more when a currency in the file has more. A file mixing EUR and JPY sums "89.33" and "56" to "145.33".
 */
export function sumOfNet(nets: readonly (readonly [string, number])[]): string {
  const scale = Math.max(2, ...nets.map(([c]) => currencyExponent(c)));
  let total = 0n;
  for (const [currency, minor] of nets)
    total += BigInt(minor) * 10n ** BigInt(scale - currencyExponent(currency));
  const neg = total < 0n;
  const abs = (neg ? -total : total).toString().padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${abs.slice(0, -scale)}.${abs.slice(-scale)}`;
}

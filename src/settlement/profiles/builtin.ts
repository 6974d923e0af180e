// The two documented default layouts (settlement-files.md, "Built-in profile payunity" / "useepay").
import type { SettlementKind } from '../../db/schema.js';
import { compilePattern } from '../datetime.js';
import type { ResolvedProfile } from './types.js';

// PayUnity's ReconciliationType says payment-or-refund only as "SETTLED"; PaymentType tells which.
const PAYUNITY_SETTLED: Readonly<Record<string, SettlementKind>> = {
  DB: 'payment',
  CP: 'payment',
  RB: 'payment',
  PA: 'payment',
  RF: 'refund',
  CB: 'chargeback',
  CR: 'chargeback_reversal',
};

export const payunityProfile: ResolvedProfile = {
  name: 'payunity',
  filePattern: /^PAYUNITY_SETTLEMENT_[A-Za-z0-9]+_(?<date>\d{8})\.csv(\.gz)?$/,
  fileDateFormat: compilePattern('yyyyMMdd'),
  encoding: 'utf8',
  delimiter: ';',
  quote: '"',
  header: true,
  skipLines: 0,
  trailer: 'payunity',
  decimalSeparator: '.',
  amountUnit: 'major',
  signs: 'signed',
  dateFormat: compilePattern('yyyy-MM-dd'),
  timestampFormat: compilePattern('yyyy-MM-dd HH:mm:ss'),
  timezone: 'UTC',
  columns: {
    settlementDate: 'SettlementDate',
    batchId: 'AggregationId',
    kind: 'ReconciliationType',
    transactionId: 'TransactionId',
    paymentId: 'ReferencedId',
    merchantReference: 'MerchantTransactionId',
    transactionTime: 'TransactionDate',
    currency: 'Currency',
    gross: 'Amount',
    fee: 'Fee',
    net: 'Net',
  },
  kindOf(kindText, field) {
    switch (kindText) {
      case 'SETTLED':
        return PAYUNITY_SETTLED[field('kindDetail')];
      case 'FEE':
        return 'fee';
      case 'CHARGEBACK':
        return 'chargeback';
      case 'CHARGEBACK REVERSAL':
        return 'chargeback_reversal';
      default:
        return undefined;
    }
  },
  extraColumns: { kindDetail: 'PaymentType' },
  allowTrailingZeroDecimals: false,
};

const USEEPAY_KINDS = new Set<string>([
  'payment',
  'refund',
  'chargeback',
  'chargeback_reversal',
  'fee',
  'adjustment',
]);

export const useepayProfile: ResolvedProfile = {
  name: 'useepay',
  filePattern: /^useepay_settlement_\d+_(?<date>\d{4}-\d{2}-\d{2})\.csv(\.gz)?$/,
  fileDateFormat: compilePattern('yyyy-MM-dd'),
  encoding: 'utf8',
  delimiter: ',',
  quote: '"',
  header: true,
  skipLines: 0,
  trailer: 'none',
  decimalSeparator: '.',
  amountUnit: 'major',
  signs: 'signed',
  dateFormat: compilePattern('yyyy-MM-dd'),
  timestampFormat: compilePattern("yyyy-MM-dd'T'HH:mm:ss[.S]X"),
  timezone: 'UTC',
  columns: {
    settlementDate: 'settlement_date',
    batchId: 'settlement_batch_id',
    kind: 'transaction_type',
    transactionId: 'transaction_id',
    paymentId: 'payment_intent_id',
    merchantReference: 'merchant_order_id',
    transactionTime: 'transaction_time',
    currency: 'currency',
    gross: 'amount',
    fee: 'fee',
    net: 'net_amount',
  },
  kindOf: (kindText) => (USEEPAY_KINDS.has(kindText) ? (kindText as SettlementKind) : undefined),
  extraColumns: {},
  allowTrailingZeroDecimals: false,
};

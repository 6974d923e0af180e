// An independent, deliberately plain re-implementation of docs/matching.md over a generated world: it parses the
// settlement files from their bytes (as the profiles describe them) and the gateway records from their wire
// format, then classifies. The generator's answer key must equal what this finds. It shares no code with the
// generator beyond src/shared (money parsing) so a planting mistake cannot hide behind a shared helper.
import { gunzipSync } from 'node:zlib';
import { parseMajorToMinor } from '../../src/shared/money.js';
import { addDays, weekday } from '../../src/shared/dates.js';
import type { World } from '../../src/sandbox/generate/index.js';

export interface RefLine {
  provider: 'payunity' | 'useepay';
  file: string;
  lineNo: number;
  settlementDate: string;
  kind: string;
  transactionId: string | null;
  ref: string;
  currency: string;
  gross: number;
  fee: number;
  net: number;
}

export interface RefEntry {
  provider: string;
  type: string;
  transactionId: string;
  gatewayAmountMinor: number | null;
  settledAmountMinor: number | null;
}

const PU_HEADER =
  'SettlementDate;AggregationId;ReconciliationType;TransactionId;ReferencedId;MerchantTransactionId;PaymentType;TransactionDate;Currency;Amount;Fee;Net';
const UE_HEADER =
  'settlement_date,settlement_batch_id,transaction_type,transaction_id,payment_intent_id,merchant_order_id,transaction_time,currency,amount,fee,net_amount';

/** Decodes one file (gzip by magic bytes, BOM stripped) and checks header, trailer and net = gross − fee. */
export function parseFile(provider: 'payunity' | 'useepay', name: string, content: Buffer): RefLine[] {
  let buf = content;
  if (buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
  let text = buf.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const rows = text.split('\n');
  if (rows.at(-1) !== '') throw new Error(`${name}: no final newline`);
  rows.pop();
  const delim = provider === 'payunity' ? ';' : ',';
  if (rows[0] !== (provider === 'payunity' ? PU_HEADER : UE_HEADER)) throw new Error(`${name}: bad header`);
  const out: RefLine[] = [];
  let trailer: string[] | undefined;
  rows.slice(1).forEach((row, i) => {
    const f = row.split(delim);
    if (f[0] === 'TRAILER') return void (trailer = f);
    if (f.length !== 12 - (provider === 'useepay' ? 1 : 0))
      throw new Error(`${name}:${i + 2}: ${f.length} columns`);
    const g = (n: number): string => f[n] ?? '';
    const pu = provider === 'payunity';
    const currency = pu ? g(8) : g(7);
    const [gross, fee, net] = (pu ? [g(9), g(10), g(11)] : [g(8), g(9), g(10)]).map((a) =>
      parseMajorToMinor(a, currency),
    ) as [number, number, number];
    if (net !== gross - fee || fee < 0) throw new Error(`${name}:${i + 2}: net ${net} != ${gross} - ${fee}`);
    const kind = pu
      ? {
          SETTLED: g(6) === 'RF' ? 'refund' : 'payment',
          CHARGEBACK: 'chargeback',
          'CHARGEBACK REVERSAL': 'chargeback_reversal',
          FEE: 'fee',
        }[g(2)]
      : g(2);
    if (!kind) throw new Error(`${name}:${i + 2}: unknown type ${g(2)}`);
    out.push({
      provider,
      file: name,
      lineNo: i + 2,
      settlementDate: g(0),
      kind,
      transactionId: g(3) || null,
      ref: pu ? g(5) : g(5),
      currency,
      gross,
      fee,
      net,
    });
  });
  if (provider === 'payunity') {
    if (!trailer) throw new Error(`${name}: no trailer`);
    if (Number(trailer[1]) !== out.length)
      throw new Error(`${name}: trailer count ${trailer[1]} != ${out.length}`);
    // Exact decimal sum of the Net column as written, in hundredths or finer.
    const scaled = (t: string): bigint => {
      const [a = '0', b = ''] = t.replace('-', '').split('.');
      return (t.startsWith('-') ? -1n : 1n) * BigInt(a + b.padEnd(3, '0'));
    };
    const sum = rows
      .slice(1)
      .filter((r) => !r.startsWith('TRAILER'))
      .reduce((s, r) => s + scaled(r.split(';')[11] ?? '0'), 0n);
    if (sum !== scaled(trailer[2] ?? '')) throw new Error(`${name}: trailer sum ${trailer[2]} != lines`);
  }
  return out;
}

const addBd = (d: string, n: number): string => {
  let x = d;
  for (let left = n; left > 0;) {
    x = addDays(x, 1);
    if (weekday(x) !== 0 && weekday(x) !== 6) left--;
  }
  return x;
};

interface Tx {
  provider: string;
  id: string;
  kind: string;
  status: string;
  root: string;
  ref: string;
  amount: number | null;
  currency: string | null;
  date: string;
  time: string;
}

function puStatus(code: string): string {
  if (/^(000\.000\.|000\.100\.1|000\.[36]|000\.400\.[1][12]0)/.test(code)) return 'succeeded';
  if (/^(000\.400\.0[^3]|000\.400\.100)/.test(code)) return 'review';
  if (/^(000\.200)/.test(code)) return 'pending';
  if (/^(800\.400\.5|100\.400\.500)/.test(code)) return 'pending_long';
  if (/^(000\.100\.2)/.test(code)) return 'chargeback';
  return 'failed';
}

function gatewayTransactions(world: World): Tx[] {
  const txs: Tx[] = [];
  const byId = new Map<string, Record<string, unknown>>();
  for (const r of world.data.payunity) byId.set(String(r.id), r);
  const reversed = new Set<string>();
  for (const r of world.data.payunity) {
    const code = (r.result as { code: string }).code;
    if (r.paymentType === 'RV' && puStatus(code) === 'succeeded') reversed.add(String(r.referencedId));
  }
  const seen = new Set<string>();
  for (const r of world.data.payunity) {
    const type = String(r.paymentType);
    // The query endpoint repeats records: one per (id, paymentType), as gateways.md says.
    if (seen.has(`${String(r.id)}|${type}`)) continue;
    seen.add(`${String(r.id)}|${type}`);
    const kind =
      (
        {
          DB: 'payment',
          CP: 'payment',
          RB: 'payment',
          RF: 'refund',
          CB: 'chargeback',
          CR: 'chargeback_reversal',
        } as Record<string, string>
      )[type] ?? 'other';
    let root = String(r.id);
    for (let ref = r.referencedId; typeof ref === 'string'; ref = byId.get(ref)?.referencedId) root = ref;
    let status = puStatus((r.result as { code: string }).code);
    if (reversed.has(String(r.id))) status = 'reversed';
    let currency = (r.currency as string | undefined) ?? null;
    let amountText = r.amount as string | undefined;
    if (type === 'CB') {
      const refd = byId.get(String(r.referencedId));
      currency = String(refd?.currency);
      amountText = String(refd?.amount);
    }
    const amount =
      amountText && currency && currency !== 'OPS'
        ? parseMajorToMinor(amountText, currency, { allowTrailingZeroDecimals: true })
        : null;
    const sign = kind === 'refund' || kind === 'chargeback' ? -1 : 1;
    const ts = String(r.timestamp);
    txs.push({
      provider: 'payunity',
      id: String(r.id),
      kind,
      status,
      root,
      ref: typeof r.merchantTransactionId === 'string' ? r.merchantTransactionId : '',
      amount: amount === null ? null : sign * amount,
      currency,
      date: ts.slice(0, 10),
      time: ts,
    });
  }
  for (const i of world.data.useepay.intents) {
    const currency = String(i.currency);
    const captured = i.captured_amount as number | null;
    const amount = parseMajorToMinor(String(captured ?? i.amount), currency);
    txs.push({
      provider: 'useepay',
      id: String(i.id),
      kind: 'payment',
      status: String(i.status),
      root: String(i.id),
      ref: String(i.merchant_order_id),
      amount,
      currency,
      date: String(i.create_at).slice(0, 10),
      time: String(i.create_at),
    });
  }
  for (const r of world.data.useepay.refunds) {
    const currency = String(r.currency);
    txs.push({
      provider: 'useepay',
      id: String(r.id),
      kind: 'refund',
      status: String(r.status),
      root: String(r.payment_intent_id),
      ref: '',
      amount: -parseMajorToMinor(String(r.amount), currency),
      currency,
      date: String(r.create_at).slice(0, 10),
      time: String(r.create_at),
    });
  }
  return txs;
}

const isExpected = (t: Tx): boolean =>
  t.kind === 'chargeback'
    ? t.status === 'chargeback'
    : t.kind !== 'other' && (t.status === 'succeeded' || t.status === 'review');

/** Every discrepancy of a run with all of `world.settlementFiles` loaded, clock at asOf. */
export function referenceDiscrepancies(
  world: World,
  asOf = world.options.asOf,
  extraFiles = [] as World['settlementFiles'],
): { entries: RefEntry[]; awaiting: string[]; lines: RefLine[] } {
  const lines = [...world.settlementFiles, ...extraFiles].flatMap((f) =>
    parseFile(f.provider, f.name, f.content),
  );
  const txs = gatewayTransactions(world);
  const tx = new Map(txs.map((t) => [`${t.provider}|${t.id}`, t]));
  const entries: RefEntry[] = [];
  const add = (
    provider: string,
    type: string,
    transactionId: string,
    g: number | null,
    s: number | null,
  ): void =>
    void entries.push({ provider, type, transactionId, gatewayAmountMinor: g, settledAmountMinor: s });
  const lag = world.config.settlementLagDays;
  const matched = new Map<string, RefLine[]>();
  const money = lines.filter((l) => l.kind !== 'fee' && l.kind !== 'adjustment');
  for (const l of money.filter((x) => x.transactionId !== null)) {
    const key = `${l.provider}|${l.transactionId}`;
    if (tx.has(key)) matched.set(key, [...(matched.get(key) ?? []), l]);
    else add(l.provider, 'missing_in_gateway', l.transactionId ?? '', null, l.gross);
  }
  for (const l of money.filter((x) => x.transactionId === null)) {
    const cand = txs
      .filter(
        (t) =>
          isExpected(t) &&
          t.provider === l.provider &&
          t.ref === l.ref &&
          t.kind === l.kind &&
          t.amount === l.gross &&
          t.currency === l.currency,
      )
      .filter(
        (t) =>
          !matched.has(`${t.provider}|${t.id}`) &&
          t.date < l.settlementDate &&
          addBd(t.date, lag[l.provider]) >= l.settlementDate,
      )
      .sort((a, b) => a.time.localeCompare(b.time));
    const t = cand[0];
    if (t) matched.set(`${t.provider}|${t.id}`, [l]);
    else add(l.provider, 'missing_in_gateway', `ref:${l.ref}`, null, l.gross);
  }
  const awaiting: string[] = [];
  for (const t of txs) {
    const ls = matched.get(`${t.provider}|${t.id}`);
    if (!ls) {
      if (!isExpected(t)) continue;
      if (asOf > addBd(t.date, lag[t.provider as 'payunity']))
        add(t.provider, 'missing_in_settlement', t.id, t.amount, null);
      else awaiting.push(t.id);
      continue;
    }
    const sorted = [...ls].sort(
      (a, b) =>
        a.settlementDate.localeCompare(b.settlementDate) ||
        a.file.localeCompare(b.file) ||
        a.lineNo - b.lineNo,
    );
    const first = sorted[0]!;
    const bad =
      t.status === 'failed' ||
      t.status === 'cancelled' ||
      t.status === 'requires_capture' ||
      t.status === 'reversed';
    if (first.currency !== t.currency) add(t.provider, 'currency_mismatch', t.id, t.amount, null);
    else if (first.kind === 'payment' && bad) add(t.provider, 'status_mismatch', t.id, t.amount, first.gross);
    else if (isExpected(t) && first.gross !== t.amount)
      add(t.provider, 'amount_mismatch', t.id, t.amount, first.gross);
    if (ls.length > 1)
      add(
        t.provider,
        'duplicate_settlement',
        t.id,
        t.amount,
        ls.reduce((s, l) => s + l.gross, 0),
      );
  }
  const groups = new Map<string, Tx[]>();
  for (const t of txs) {
    if (t.kind !== 'payment' || !isExpected(t) || !matched.has(`${t.provider}|${t.id}`)) continue;
    const k = `${t.provider}|${t.ref}|${t.amount}|${t.currency}`;
    groups.set(k, [...(groups.get(k) ?? []), t]);
  }
  for (const group of groups.values()) {
    group.sort((a, b) => a.time.localeCompare(b.time) || a.id.localeCompare(b.id));
    for (const t of group.slice(1))
      add(t.provider, 'duplicate_charge', t.id, t.amount, matched.get(`${t.provider}|${t.id}`)![0]!.gross);
  }
  const roots = new Map<string, { provider: string; captured: number; out: number }>();
  for (const t of txs) {
    if (!isExpected(t) || t.amount === null) continue;
    const r = roots.get(`${t.provider}|${t.root}`) ?? { provider: t.provider, captured: 0, out: 0 };
    if (t.kind === 'payment') r.captured += t.amount;
    else r.out -= t.amount; // refunds and chargebacks are negative, reversals positive
    roots.set(`${t.provider}|${t.root}`, r);
  }
  for (const [key, r] of roots)
    if (r.out > r.captured) add(r.provider, 'refund_exceeds_payment', key.split('|')[1]!, r.captured, -r.out);
  for (const l of money) {
    if (l.kind !== 'payment') continue;
    const rule = world.config.fees[l.provider].find(
      (x) => x.currency === l.currency && x.brand === undefined,
    );
    if (!rule) continue;
    const [i = '0', f = ''] = rule.percent.split('.');
    const num = BigInt(l.gross) * BigInt(i + f);
    const den = 100n * 10n ** BigInt(f.length);
    const expected = Number((2n * num + den) / (2n * den)) + parseMajorToMinor(rule.fixed, l.currency);
    if (Math.abs(l.fee - expected) > parseMajorToMinor(rule.tolerance, l.currency))
      add(l.provider, 'fee_mismatch', l.transactionId ?? `ref:${l.ref}`, expected, l.fee);
  }
  return { entries, awaiting, lines };
}

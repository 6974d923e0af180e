import { currencyExponent } from '../../shared/money.js';
import { addBusinessDays } from './calendar.js';
import {
  endOfDay,
  followUp,
  otherCurrency,
  part,
  pickAmount,
  pickCurrency,
  plantedSettlementDate,
  sameDay,
  settleLate,
  type Gen,
  type PlantTask,
} from './common.js';
import { dateOf, type Movement } from './ledger.js';
import { intentRecord, refundRecord, type IntentStatus } from './useepay-wire.js';

// UseePay activity: PaymentIntents that succeed (auto or manual capture, some captured for less than authorised),
// fail, are cancelled or wait for capture or the customer; succeeded and failed refunds; plus the planted
// scenarios. Times are whole seconds because UseePay's timestamps carry no milliseconds.

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

interface Intent {
  id: string;
  time: number;
  currency: string;
  amount: number;
  orderId: string;
}

const sec = (ms: number): number => ms - (ms % 1000);

function newIntent(g: Gen, t: number, unknownToGateway = false): Intent {
  const time = sec(t);
  const currency = pickCurrency(g);
  const date = dateOf(time);
  return {
    id: g.ids.useepayIntent(date, unknownToGateway),
    time,
    currency,
    amount: pickAmount(g, currency),
    orderId: g.ids.order('UE', date),
  };
}

function pushIntent(
  g: Gen,
  i: Intent,
  status: IntentStatus,
  opts: { autoCapture?: boolean; captured?: number | null } = {},
): void {
  const settledLater = status === 'succeeded' || status === 'cancelled' || status === 'failed';
  g.intents.push(
    intentRecord({
      id: i.id,
      merchantNo: g.credentials.useepay.merchantNo,
      appId: g.credentials.useepay.appId,
      orderId: i.orderId,
      amountMinor: i.amount,
      currency: i.currency,
      status,
      autoCapture: opts.autoCapture ?? true,
      capturedMinor: opts.captured === undefined ? (status === 'succeeded' ? i.amount : null) : opts.captured,
      createMs: i.time,
      // Captures and cancellations happen the same UTC day, so the record's date never moves.
      modifyMs: settledLater
        ? sec(sameDay(g, i.time, 2000, opts.autoCapture === false ? 4 * HOUR : 8000))
        : i.time,
      errorIndex: g.rng.int(0, 3),
    }),
  );
}

function payment(i: Intent, amountMinor = i.amount): Movement {
  return {
    provider: 'useepay',
    transactionId: i.id,
    gatewayType: 'payment',
    kind: 'payment',
    lineRootId: i.id,
    merchantReference: i.orderId,
    timeMs: i.time,
    currency: i.currency,
    amountMinor,
  };
}

function refund(
  g: Gen,
  i: Intent,
  t: number,
  amount: number,
  status: 'succeeded' | 'failed',
  settle: 'normal' | 'planted' | 'none',
): number {
  const time = sec(t);
  const id = g.ids.useepayRefund();
  g.refunds.push(
    refundRecord({
      id,
      intentId: i.id,
      amountMinor: amount,
      currency: i.currency,
      status,
      createMs: time,
      modifyMs: sec(Math.min(time + g.rng.int(1000, 2 * HOUR), endOfDay(time) - 1000)),
      arn: status === 'succeeded' ? g.ids.arn() : null,
    }),
  );
  const m: Movement = {
    ...payment(i, -amount),
    transactionId: id,
    gatewayType: 'refund',
    kind: 'refund',
    timeMs: time,
  };
  if (settle === 'normal') g.ledger.settle(m);
  if (settle === 'planted') g.ledger.line(m, plantedSettlementDate(g, m));
  return amount;
}

export function useepayNormal(g: Gen, t: number): void {
  const i = newIntent(g, t);
  const r = g.rng.next();
  if (r < 0.76) {
    const manual = r >= 0.7;
    const captured = manual && g.rng.chance(0.5) ? part(g, i.amount, 50, 95) : i.amount;
    pushIntent(g, i, 'succeeded', { autoCapture: !manual, captured });
    g.ledger.settle(payment(i, captured));
    return refunds(g, i, captured);
  }
  if (r < 0.79) return pushIntent(g, i, 'requires_capture', { autoCapture: false, captured: null });
  if (r < 0.91) return pushIntent(g, i, 'failed');
  if (r < 0.96) return pushIntent(g, i, 'cancelled', { autoCapture: g.rng.chance(0.5) });
  pushIntent(g, i, g.rng.pick(['requires_payment_method', 'requires_customer_action', 'pending'] as const));
}

function refunds(g: Gen, i: Intent, captured: number): void {
  const f = g.rng.next();
  if (f >= 0.11) return;
  let time = followUp(g, i.time, MIN, 10 * DAY);
  if (time === null) return;
  if (f < 0.06) return void refund(g, i, time, part(g, captured, 10, 60), 'succeeded', 'normal');
  if (f < 0.08) {
    refund(g, i, time, part(g, captured, 10, 40), 'succeeded', 'normal');
    time = followUp(g, time, MIN, 3 * DAY);
    if (time !== null) refund(g, i, time, part(g, captured, 10, 40), 'succeeded', 'normal');
    return;
  }
  if (f < 0.1) return void refund(g, i, time, captured, 'succeeded', 'normal');
  refund(g, i, time, part(g, captured, 10, 90), 'failed', 'none');
}

export function useepayPlant(g: Gen, task: PlantTask): void {
  const { ledger } = g;
  const i = newIntent(g, task.timeMs, task.type === 'missing_in_gateway');
  const pay = payment(i);
  const note = `planted #${task.index}`;
  switch (task.type) {
    case 'missing_in_gateway':
      ledger.line(pay, plantedSettlementDate(g, pay));
      return ledger.entry(
        'useepay',
        'missing_in_gateway',
        i.id,
        i.currency,
        null,
        i.amount,
        true,
        `${note}: settled intent unknown to the gateway`,
      );
    case 'missing_in_settlement':
      pushIntent(g, i, 'succeeded');
      return ledger.unsettled(pay, true, `${note}: never settled`);
    case 'late':
      pushIntent(g, i, 'succeeded');
      return settleLate(g, pay);
    case 'ref_only': {
      pushIntent(g, i, 'succeeded');
      const s = plantedSettlementDate(g, pay);
      ledger.line({ ...pay, lineRootId: '' }, s, { transactionId: '' });
      return;
    }
    case 'amount_mismatch': {
      if (task.index % 2 === 0) {
        // Captured for less than authorised, settled for the authorisation: over-settled, a refund candidate.
        const captured = part(g, i.amount, 50, 90);
        pushIntent(g, i, 'succeeded', { autoCapture: false, captured });
        ledger.line(payment(i, captured), plantedSettlementDate(g, pay), { grossMinor: i.amount });
        return ledger.entry(
          'useepay',
          'amount_mismatch',
          i.id,
          i.currency,
          captured,
          i.amount,
          true,
          `${note}: settled the authorised amount, captured ${captured}`,
        );
      }
      pushIntent(g, i, 'succeeded');
      const gross = i.amount - Math.max(1, Math.floor(i.amount / 5));
      ledger.line(pay, plantedSettlementDate(g, pay), { grossMinor: gross });
      return ledger.entry(
        'useepay',
        'amount_mismatch',
        i.id,
        i.currency,
        i.amount,
        gross,
        true,
        `${note}: under-settled`,
      );
    }
    case 'currency_mismatch': {
      const other = otherCurrency(g, i.currency);
      if (other === undefined) throw new Error('currency_mismatch needs two currencies');
      pushIntent(g, i, 'succeeded');
      ledger.line(pay, plantedSettlementDate(g, pay), { currency: other });
      return ledger.entry(
        'useepay',
        'currency_mismatch',
        i.id,
        i.currency,
        i.amount,
        null,
        true,
        `${note}: settled in ${other}`,
        { settledCurrency: other, settledGrossMinor: i.amount },
      );
    }
    case 'status_mismatch': {
      const status = (['failed', 'cancelled', 'requires_capture'] as const)[task.index % 3] ?? 'failed';
      pushIntent(g, i, status, { autoCapture: status === 'requires_capture' ? false : true, captured: null });
      ledger.line(pay, plantedSettlementDate(g, pay));
      return ledger.entry(
        'useepay',
        'status_mismatch',
        i.id,
        i.currency,
        i.amount,
        i.amount,
        true,
        `${note}: ${status} intent settled`,
      );
    }
    case 'duplicate_settlement': {
      pushIntent(g, i, 'succeeded');
      const s1 = plantedSettlementDate(g, pay);
      const next = addBusinessDays(s1, 1);
      ledger.line(pay, s1);
      ledger.line(pay, next <= ledger.opts.to ? next : s1);
      return ledger.entry(
        'useepay',
        'duplicate_settlement',
        i.id,
        i.currency,
        i.amount,
        2 * i.amount,
        true,
        `${note}: on two lines`,
      );
    }
    case 'duplicate_charge': {
      pushIntent(g, i, 'succeeded');
      ledger.line(pay, plantedSettlementDate(g, pay));
      const time2 = sec(sameDay(g, i.time, 30_000, 10 * MIN));
      const second: Intent = { ...i, id: g.ids.useepayIntent(dateOf(time2)), time: time2 };
      pushIntent(g, second, 'succeeded');
      const pay2 = payment(second);
      ledger.line(pay2, plantedSettlementDate(g, pay2));
      return ledger.entry(
        'useepay',
        'duplicate_charge',
        second.id,
        i.currency,
        i.amount,
        i.amount,
        true,
        `${note}: same order ${i.orderId} as ${i.id}`,
      );
    }
    case 'refund_exceeds_payment': {
      pushIntent(g, i, 'succeeded');
      ledger.line(pay, plantedSettlementDate(g, pay));
      let out = refund(
        g,
        i,
        sameDay(g, i.time, HOUR, 3 * HOUR),
        part(g, i.amount, 60, 70),
        'succeeded',
        'planted',
      );
      out += refund(
        g,
        i,
        sameDay(g, i.time, 4 * HOUR, 6 * HOUR),
        task.index % 2 === 0 ? part(g, i.amount, 60, 70) : i.amount,
        'succeeded',
        'planted',
      );
      return ledger.entry(
        'useepay',
        'refund_exceeds_payment',
        i.id,
        i.currency,
        i.amount,
        -out,
        true,
        `${note}: refunded ${out} of ${i.amount}`,
      );
    }
    case 'fee_mismatch': {
      pushIntent(g, i, 'succeeded');
      const rule = ledger.feeRule('useepay', i.currency);
      const expected = ledger.normalFee('useepay', 'payment', i.currency, i.amount);
      const delta = rule.toleranceMinor + (currencyExponent(i.currency) === 0 ? 25 : 37);
      const fee = task.index % 2 === 1 && expected - delta >= 0 ? expected - delta : expected + delta;
      ledger.line(pay, plantedSettlementDate(g, pay), { feeMinor: fee });
      return ledger.entry(
        'useepay',
        'fee_mismatch',
        i.id,
        i.currency,
        expected,
        fee,
        true,
        `${note}: fee ${fee} instead of ${expected}`,
      );
    }
  }
}

import { currencyExponent } from '../../shared/money.js';
import { addBusinessDays } from './calendar.js';
import {
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
import { flat } from './prng.js';
import { CHARGEBACK_CODES, DECLINE_CODES, SUCCESS_CODES, type PayunityType } from './payunity-wire.js';

// PayUnity (OPPWA) activity: debits, pre-authorisations with (partial) captures, refunds against the debit or the
// PA, reversals, declines, pendings, chargebacks and their reversals, and 3D / RI noise; plus the planted
// scenarios. Every money movement goes through the ledger, which settles it or records why it does not.

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

interface Root {
  id: string;
  time: number;
  currency: string;
  amount: number;
  ref: string;
  card: ReturnType<Gen['pu']['pickCard']>;
}

function push(
  g: Gen,
  root: Root,
  type: PayunityType,
  code: string,
  over: { id?: string; time?: number; amount?: number; ref?: string; referencedId?: string } = {},
): string {
  const time = over.time ?? root.time;
  const id = over.id ?? g.ids.payunity(time);
  const money = type !== 'CB' && type !== 'RI' && type !== '3D';
  g.payunity.push(
    g.pu.record({
      id,
      type,
      referencedId: over.referencedId,
      amountMinor: money ? (over.amount ?? root.amount) : undefined,
      currency: money ? root.currency : undefined,
      merchantTransactionId:
        type === 'CB' || type === 'RI' || type === '3D' ? undefined : (over.ref ?? root.ref),
      code,
      timeMs: time,
      card: root.card,
    }),
  );
  return id;
}

function newRoot(g: Gen, t: number, currency = pickCurrency(g)): Root {
  const time = g.pu.time(t);
  return {
    id: g.ids.payunity(time),
    time,
    currency,
    amount: pickAmount(g, currency),
    ref: g.ids.order('PU', dateOf(time)),
    card: g.pu.pickCard(),
  };
}

function movement(
  root: Root,
  m: Partial<Movement> & Pick<Movement, 'transactionId' | 'gatewayType' | 'kind' | 'amountMinor' | 'timeMs'>,
): Movement {
  return {
    provider: 'payunity',
    lineRootId: root.id,
    merchantReference: root.ref,
    currency: root.currency,
    ...m,
  };
}

function dbMovement(root: Root): Movement {
  return movement(root, {
    transactionId: root.id,
    gatewayType: 'DB',
    kind: 'payment',
    lineRootId: '',
    amountMinor: root.amount,
    timeMs: root.time,
  });
}

/** A succeeded debit, sometimes with its 3-D Secure record before and a risk record after. */
function debit(g: Gen, root: Root, code = g.rng.pick(SUCCESS_CODES)): void {
  if (g.rng.chance(0.08))
    push(g, root, '3D', '000.400.109', { time: root.time - 1500, referencedId: root.id });
  push(g, root, 'DB', code, { id: root.id });
  if (g.rng.chance(0.05))
    push(g, root, 'RI', '000.100.110', { time: root.time + 200, referencedId: root.id });
}

function refund(
  g: Gen,
  root: Root,
  time: number,
  amount: number,
  n: number,
  referencedId = root.id,
  settle = true,
): number {
  const id = push(g, root, 'RF', '000.100.110', {
    time,
    amount,
    ref: flat([root.ref, '-R', String(n)]),
    referencedId,
  });
  const m = movement(root, {
    transactionId: id,
    gatewayType: 'RF',
    kind: 'refund',
    amountMinor: -amount,
    timeMs: time,
    merchantReference: flat([root.ref, '-R', String(n)]),
  });
  if (settle) g.ledger.settle(m);
  else g.ledger.line(m, plantedSettlementDate(g, m));
  return amount;
}

function chargeback(g: Gen, root: Root, time: number, settle = true): void {
  const id = push(g, root, 'CB', g.rng.pick(CHARGEBACK_CODES), { time, referencedId: root.id });
  const m = movement(root, {
    transactionId: id,
    gatewayType: 'CB',
    kind: 'chargeback',
    amountMinor: -root.amount,
    timeMs: time,
  });
  if (settle) g.ledger.settle(m);
  else g.ledger.line(m, plantedSettlementDate(g, m));
}

export function payunityNormal(g: Gen, t: number): void {
  const root = newRoot(g, t);
  const r = g.rng.next();
  if (r < 0.63) return debitFlow(g, root, r < 0.03 ? '000.400.000' : g.rng.pick(SUCCESS_CODES));
  if (r < 0.77) return preauthFlow(g, root);
  if (r < 0.81) return void push(g, root, 'PA', g.rng.pick(SUCCESS_CODES), { id: root.id });
  if (r < 0.84) {
    push(g, root, 'PA', g.rng.pick(SUCCESS_CODES), { id: root.id });
    const rv = followUp(g, root.time, MIN, DAY);
    if (rv !== null)
      push(g, root, 'RV', '000.100.110', { time: rv, ref: flat([root.ref, '-V']), referencedId: root.id });
    return;
  }
  if (r < 0.94) return void push(g, root, 'DB', g.rng.pick(DECLINE_CODES), { id: root.id });
  if (r < 0.96) return void push(g, root, 'DB', '000.200.000', { id: root.id });
  push(g, root, 'RI', '000.100.110', { id: root.id });
}

function debitFlow(g: Gen, root: Root, code: string): void {
  const f = g.rng.next();
  if (f < 0.015) {
    const rv = followUp(g, root.time, MIN, 2 * HOUR);
    debit(g, root, code);
    // A reversed debit never settles; without room for the reversal it is an ordinary debit.
    if (rv !== null)
      return void push(g, root, 'RV', '000.100.110', {
        time: rv,
        ref: flat([root.ref, '-V']),
        referencedId: root.id,
      });
    return g.ledger.settle(dbMovement(root));
  }
  debit(g, root, code);
  g.ledger.settle(dbMovement(root));
  if (f < 0.095) {
    let time = followUp(g, root.time, MIN, 10 * DAY);
    const shares =
      f < 0.075
        ? [[10, 60]]
        : [
            [10, 40],
            [10, 40],
          ];
    for (let n = 0; n < shares.length && time !== null; n++) {
      const [lo = 10, hi = 40] = shares[n] ?? [];
      refund(g, root, time, part(g, root.amount, lo, hi), n + 1);
      time = followUp(g, time, MIN, 3 * DAY);
    }
  } else if (f < 0.115) {
    const time = followUp(g, root.time, MIN, 10 * DAY);
    if (time !== null) refund(g, root, time, root.amount, 1);
  } else if (f < 0.12) {
    // A refund the platform refused (over the captured amount): no money moves.
    const time = followUp(g, root.time, MIN, 5 * DAY);
    if (time !== null)
      push(g, root, 'RF', '700.400.200', {
        time,
        amount: root.amount + 100,
        ref: flat([root.ref, '-R1']),
        referencedId: root.id,
      });
  } else if (f < 0.14) {
    const cb = followUp(g, root.time, HOUR, 7 * DAY);
    if (cb === null) return;
    chargeback(g, root, cb);
    const cr = g.rng.chance(0.5) ? followUp(g, cb, HOUR, 5 * DAY) : null;
    if (cr === null) return;
    const id = push(g, root, 'CR', '000.100.110', {
      time: cr,
      ref: flat([root.ref, '-CR']),
      referencedId: root.id,
    });
    g.ledger.settle(
      movement(root, {
        transactionId: id,
        gatewayType: 'CR',
        kind: 'chargeback_reversal',
        amountMinor: root.amount,
        timeMs: cr,
        merchantReference: flat([root.ref, '-CR']),
      }),
    );
  }
}

function preauthFlow(g: Gen, root: Root): void {
  push(g, root, 'PA', g.rng.pick(SUCCESS_CODES), { id: root.id });
  const cpTime = followUp(g, root.time, MIN, 2 * DAY);
  if (cpTime === null) return;
  const captured = g.rng.chance(0.8) ? root.amount : part(g, root.amount, 50, 95);
  const cpRef = flat([root.ref, '-C']);
  const cpId = push(g, root, 'CP', '000.100.110', {
    time: cpTime,
    amount: captured,
    ref: cpRef,
    referencedId: root.id,
  });
  g.ledger.settle(
    movement(root, {
      transactionId: cpId,
      gatewayType: 'CP',
      kind: 'payment',
      amountMinor: captured,
      timeMs: cpTime,
      merchantReference: cpRef,
    }),
  );
  if (g.rng.chance(0.05)) {
    const time = followUp(g, cpTime, MIN, 10 * DAY);
    // A refund of a captured PA may reference the PA or the capture; either way its root is the PA.
    if (time !== null)
      refund(g, root, time, part(g, captured, 10, 90), 1, g.rng.chance(0.5) ? root.id : cpId);
  }
}

/** The planted scenarios (see matching.md for what each must produce). */
export function payunityPlant(g: Gen, task: PlantTask): void {
  const { ledger } = g;
  const root = newRoot(g, task.timeMs);
  const db = dbMovement(root);
  const note = `planted #${task.index}`;
  switch (task.type) {
    case 'missing_in_gateway': {
      const id = g.ids.payunity(root.time, true);
      ledger.line({ ...db, transactionId: id }, plantedSettlementDate(g, db));
      return ledger.entry(
        'payunity',
        'missing_in_gateway',
        id,
        root.currency,
        null,
        root.amount,
        true,
        `${note}: settled id unknown to the gateway`,
      );
    }
    case 'missing_in_settlement':
      debit(g, root);
      return ledger.unsettled(db, true, `${note}: never settled`);
    case 'late':
      debit(g, root);
      return settleLate(g, db);
    case 'ref_only':
      debit(g, root);
      ledger.line(db, plantedSettlementDate(g, db), { transactionId: '' });
      return;
    case 'amount_mismatch': {
      debit(g, root);
      const over = task.index % 2 === 0;
      const gross = over
        ? root.amount + Math.max(1, Math.floor(root.amount / 10))
        : root.amount - Math.max(1, Math.floor(root.amount / 5));
      ledger.line(db, plantedSettlementDate(g, db), { grossMinor: gross });
      return ledger.entry(
        'payunity',
        'amount_mismatch',
        root.id,
        root.currency,
        root.amount,
        gross,
        true,
        `${note}: ${over ? 'over' : 'under'}-settled`,
      );
    }
    case 'currency_mismatch': {
      const other = otherCurrency(g, root.currency);
      if (other === undefined) throw new Error('currency_mismatch needs two currencies');
      debit(g, root);
      ledger.line(db, plantedSettlementDate(g, db), { currency: other });
      return ledger.entry(
        'payunity',
        'currency_mismatch',
        root.id,
        root.currency,
        root.amount,
        null,
        true,
        `${note}: settled in ${other}`,
        { settledCurrency: other, settledGrossMinor: root.amount },
      );
    }
    case 'status_mismatch': {
      if (task.index % 2 === 0) {
        push(g, root, 'DB', g.rng.pick(DECLINE_CODES), { id: root.id });
      } else {
        debit(g, root);
        push(g, root, 'RV', '000.100.110', {
          time: sameDay(g, root.time, MIN, 30 * MIN),
          ref: flat([root.ref, '-V']),
          referencedId: root.id,
        });
      }
      ledger.line(db, plantedSettlementDate(g, db));
      return ledger.entry(
        'payunity',
        'status_mismatch',
        root.id,
        root.currency,
        root.amount,
        root.amount,
        true,
        `${note}: ${task.index % 2 === 0 ? 'declined' : 'reversed'} debit settled`,
      );
    }
    case 'duplicate_settlement': {
      debit(g, root);
      const s1 = plantedSettlementDate(g, db);
      const next = addBusinessDays(s1, 1);
      ledger.line(db, s1);
      ledger.line(db, next <= ledger.opts.to ? next : s1);
      return ledger.entry(
        'payunity',
        'duplicate_settlement',
        root.id,
        root.currency,
        root.amount,
        2 * root.amount,
        true,
        `${note}: on two lines`,
      );
    }
    case 'duplicate_charge': {
      debit(g, root);
      ledger.line(db, plantedSettlementDate(g, db));
      const time2 = sameDay(g, root.time, 30_000, 10 * MIN);
      const second: Root = { ...root, id: g.ids.payunity(time2), time: time2 };
      debit(g, second);
      const db2 = dbMovement(second);
      ledger.line(db2, plantedSettlementDate(g, db2));
      return ledger.entry(
        'payunity',
        'duplicate_charge',
        second.id,
        root.currency,
        root.amount,
        root.amount,
        true,
        `${note}: same ref ${root.ref} as ${root.id}`,
      );
    }
    case 'refund_exceeds_payment': {
      debit(g, root);
      ledger.line(db, plantedSettlementDate(g, db));
      let out = refund(
        g,
        root,
        sameDay(g, root.time, HOUR, 3 * HOUR),
        part(g, root.amount, 60, 70),
        1,
        root.id,
        false,
      );
      if (task.index % 2 === 0) {
        chargeback(g, root, sameDay(g, root.time, 4 * HOUR, 6 * HOUR), false);
        out += root.amount;
      } else {
        out += refund(
          g,
          root,
          sameDay(g, root.time, 4 * HOUR, 6 * HOUR),
          part(g, root.amount, 60, 70),
          2,
          root.id,
          false,
        );
      }
      return ledger.entry(
        'payunity',
        'refund_exceeds_payment',
        root.id,
        root.currency,
        root.amount,
        -out,
        true,
        `${note}: refunded/charged back ${out} of ${root.amount}`,
      );
    }
    case 'fee_mismatch': {
      debit(g, root);
      const rule = ledger.feeRule('payunity', root.currency);
      const expected = ledger.normalFee('payunity', 'payment', root.currency, root.amount);
      const delta = rule.toleranceMinor + (currencyExponent(root.currency) === 0 ? 25 : 37);
      const fee = task.index % 2 === 1 && expected - delta >= 0 ? expected - delta : expected + delta;
      ledger.line(db, plantedSettlementDate(g, db), { feeMinor: fee });
      return ledger.entry(
        'payunity',
        'fee_mismatch',
        root.id,
        root.currency,
        expected,
        fee,
        true,
        `${note}: fee ${fee} instead of ${expected}`,
      );
    }
  }
}

import { formatMinor } from '../shared/money.js';
import type { ListedHold, ReleaseResult } from './hold-releases.js';

// Human text of `payrecon refunds holds` and `payrecon refunds release-hold` (--json prints the objects).

const utc = (iso: string) => `${iso.slice(0, 16).replace('T', ' ')} UTC`;

function record(h: ListedHold): string {
  const where =
    h.windowFrom === h.windowTo
      ? `looked up by id at ${utc(h.windowFrom)}`
      : `window ${utc(h.windowFrom)} to ${utc(h.windowTo)}`;
  return `${h.provider} record ${h.recordId ?? '(without id)'}${h.gatewayType ? ` (${h.gatewayType})` : ''} from ${h.endpoint}, ${where}`;
}

function payments(h: ListedHold): string {
  if (h.paymentId === null) return `every ${h.provider} payment (the record names none)`;
  return `payment ${h.paymentId}${h.roots.length > 0 ? ` (and its root ${h.roots.join(', ')})` : ''}`;
}

function refunds(h: ListedHold): string {
  if (h.refunds.length === 0) return 'no planned refund';
  return h.refunds
    .map((r) => `${r.discrepancyId} ${formatMinor(r.amountMinor, r.currency)} ${r.currency} ${r.state}`)
    .join(', ');
}

export function formatHolds(list: readonly ListedHold[]): string {
  if (list.length === 0) return 'No rejected gateway record holds refunds.';
  const n = (s: ListedHold['state']) => list.filter((h) => h.state === s).length;
  const out = [
    `Rejected gateway records: ${n('holding')} holding refunds, ${n('released')} released by hand${n('resolved') > 0 ? `, ${n('resolved')} resolved` : ''}`,
  ];
  for (const h of list) {
    out.push(`  ${String(h.rejectionId).padEnd(6)} ${h.state.padEnd(8)} ${record(h)}`);
    out.push(
      `         ${h.state === 'holding' ? 'holds' : 'held'} refunds of ${payments(h)}; since ${utc(h.since)}, last met ${utc(h.lastRejectedAt)}`,
    );
    out.push(`         rejected: ${h.reason}`);
    if (h.release)
      out.push(`         released by ${h.release.by} on ${utc(h.release.at)}: ${h.release.reason}`);
    if (h.state === 'resolved')
      out.push(`         resolved on ${utc(h.resolvedAt ?? '')}: ${h.resolution ?? ''}`);
    else out.push(`         ${h.state === 'holding' ? 'keeps back' : 'would keep back'}: ${refunds(h)}`);
  }
  if (n('holding') > 0)
    out.push(
      'A hold lifts when a later pull stores the record or no longer meets it; to lift one by hand: payrecon refunds release-hold <id> --reason …',
    );
  return out.join('\n');
}

export function formatRelease(r: ReleaseResult): string {
  const h = r.hold;
  const rel = h.release;
  const who = rel ? `${rel.by} on ${utc(rel.at)}: ${rel.reason}` : '';
  if (!r.released)
    return `Rejected record ${h.rejectionId} (${record(h)}) was already released by ${who}; nothing changed.`;
  return [
    `Released rejected record ${h.rejectionId} (${record(h)}): it no longer holds refunds of ${payments(h)}.`,
    `  recorded: released by ${who}`,
    `  planned refunds it held: ${refunds(h)} (another record may still hold them: payrecon refunds holds)`,
  ].join('\n');
}

// A full card number (PAN) must never be stored. Any run of 13–19 digits, possibly grouped by single spaces or
// dashes, that passes the Luhn check is masked to first 6 + ****** + last 4 before raw text is kept.

// Digit runs, grouped or not, bounded by non-digits (as a regex: /(?<!\d)\d(?:[ -]?\d){12,}(?!\d)/g). Longer
// grouped runs are searched for a card inside them.

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

function maskDigits(digits: string): string {
  return `${digits.slice(0, 6)}******${digits.slice(-4)}`;
}

function maskCandidate(match: string): string {
  const digits = match.replace(/[ -]/g, '');
  if (digits.length >= 13 && digits.length <= 19 && luhnValid(digits)) return maskDigits(digits);
  // A grouped run may hold a card next to other numbers ("ORD 1234 4111 1111 1111 1111"): try every contiguous
  // span of groups. An ungrouped run of 20+ digits is an id, not a card, and is left alone.
  const groups = match.split(/[ -]/);
  if (groups.length === 1) return match;
  for (let i = 0; i < groups.length; i++) {
    let span = '';
    for (let j = i; j < groups.length; j++) {
      span += groups[j];
      if (span.length > 19) break;
      if (span.length >= 13 && luhnValid(span)) {
        const before = groups.slice(0, i).join(' ');
        const after = groups.slice(j + 1).join(' ');
        return [before, maskDigits(span), after && maskCandidate(after)].filter((s) => s !== '').join(' ');
      }
    }
  }
  return match;
}

/**
 * `text` with every card number masked; the same string when there is none. Equivalent to
 * `text.replace(CANDIDATE, maskCandidate)` (the candidate regex above matches exactly the maximal runs of digits joined by single
 * spaces or dashes that hold 13+ digits), found by one loop over char codes: on every line of every file the
 * regex, with its lookbehind, cost several times more, and numeric gateway ids (19 digits) are candidates on
 * nearly every line. A run without separators needs no group search: it is a card or it is left alone.
 */
export function maskCardNumbers(text: string): string {
  let out: string | null = null;
  let last = 0;
  const n = text.length;
  for (let i = 0; i < n;) {
    if (!isDigit(text.charCodeAt(i))) {
      i++;
      continue;
    }
    const start = i;
    let digits = 1;
    let grouped = false;
    let end = i + 1;
    for (;;) {
      if (end < n && isDigit(text.charCodeAt(end))) {
        digits++;
        end++;
        continue;
      }
      const c = end + 1 < n ? text.charCodeAt(end) : 0;
      if ((c === 32 || c === 45) && isDigit(text.charCodeAt(end + 1))) {
        digits++;
        grouped = true;
        end += 2;
        continue;
      }
      break;
    }
    i = end;
    if (digits < 13) continue;
    const run = text.slice(start, end);
    let masked: string;
    if (grouped) masked = maskCandidate(run);
    else masked = digits <= 19 && luhnValid(run) ? maskDigits(run) : run;
    if (masked === run) continue;
    out = (out ?? '') + text.slice(last, start) + masked;
    last = end;
  }
  return out === null ? text : out + text.slice(last);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

// A full card number (PAN) must never be stored. Any run of 13–19 digits that passes the Luhn check, written
// whole or grouped the way cards are printed (single spaces or dashes, every group but the last of 3–6 digits:
// 4-4-4-4, 4-6-5, 6-13), is masked to first 6 + ****** + last 4 before raw text is kept. Digits grouped otherwise
// are another number: an order reference such as "PU-20261118-0000309" (8 + 7 digits that happen to pass the
// Luhn check) is left alone.

// Digit runs, grouped or not, bounded by non-digits (as a regex: /(?<!\d)\d(?:[ -]?\d){12,}(?!\d)/g). Longer
// grouped runs are searched for a card inside them.

export function luhnValid(digits: string): boolean {
  return luhnAt(digits, 0, digits.length);
}

function maskDigits(digits: string): string {
  return `${digits.slice(0, 6)}******${digits.slice(-4)}`;
}

/** Groups `from`..`to` of a run are laid out like a printed card: every group before the last has 3–6 digits. */
function cardLayout(groups: readonly string[], from: number, to: number): boolean {
  for (let k = from; k < to; k++) {
    const len = groups[k]!.length;
    if (len < 3 || len > 6) return false;
  }
  return true;
}

function maskCandidate(match: string): string {
  const groups = match.split(/[ -]/);
  const digits = groups.join('');
  if (
    digits.length >= 13 &&
    digits.length <= 19 &&
    cardLayout(groups, 0, groups.length - 1) &&
    luhnValid(digits)
  )
    return maskDigits(digits);
  // A grouped run may hold a card next to other numbers ("ORD 1234 4111 1111 1111 1111"): try every contiguous
  // span of groups; what is around the card keeps its separators. An ungrouped run of 20+ digits is an id, not a
  // card, and is left alone.
  if (groups.length === 1) return match;
  let at = 0; // where group i starts in match
  for (let i = 0; i < groups.length; i++) {
    let span = '';
    let end = at;
    for (let j = i; j < groups.length; j++) {
      span += groups[j];
      end += groups[j]!.length;
      if (span.length > 19) break;
      if (span.length >= 13 && cardLayout(groups, i, j) && luhnValid(span)) {
        // end is the separator after group j, if any: the rest after it is searched on.
        const rest = end < match.length ? match[end]! + maskCandidate(match.slice(end + 1)) : '';
        return match.slice(0, at) + maskDigits(span) + rest;
      }
      end += 1;
    }
    at += groups[i]!.length + 1;
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
  for (let at = firstCardNumber(text); at >= 0; at = firstCardNumber(text, last)) {
    const end = runEnd(text, at);
    const run = text.slice(at, end);
    // firstCardNumber returns only runs that hold a card: a whole one is one card, a grouped one is searched.
    out =
      (out ?? '') +
      text.slice(last, at) +
      (end - at === digitCount(text, at, end) ? maskDigits(run) : maskCandidate(run));
    last = end;
  }
  return out === null ? text : out + text.slice(last);
}

/**
 * Where the first card number maskCardNumbers would mask in `text` (from `from` on) starts, or -1: the same scan
 * without building a string, and an ungrouped run checked in place (Luhn over its char codes). For hot paths whose
 * text rarely holds one: most long digit runs (ids of 20+ digits, 19-digit ids failing the check) cost one pass.
 */
export function firstCardNumber(text: string, from = 0): number {
  const n = text.length;
  for (let i = from; i < n;) {
    if (!isDigit(text.charCodeAt(i))) {
      i++;
      continue;
    }
    const start = i;
    const end = runEnd(text, start);
    i = end;
    if (end - start < 13) continue;
    const digits = digitCount(text, start, end);
    if (digits === end - start) {
      if (digits <= 19 && luhnAt(text, start, end)) return start;
    } else if (digits >= 13) {
      const run = text.slice(start, end);
      if (maskCandidate(run) !== run) return start;
    }
  }
  return -1;
}

/** Where the run of digits at `start` ends: digits, single spaces or dashes between them included. */
function runEnd(text: string, start: number): number {
  const n = text.length;
  let end = start + 1;
  for (;;) {
    if (end < n && isDigit(text.charCodeAt(end))) end++;
    else if (end + 1 < n && isSeparator(text.charCodeAt(end)) && isDigit(text.charCodeAt(end + 1))) end += 2;
    else return end;
  }
}

/** The digits of text[start, end), a run runEnd found (so everything else in it is a separator). */
function digitCount(text: string, start: number, end: number): number {
  let digits = 0;
  for (let i = start; i < end; i++) if (isDigit(text.charCodeAt(i))) digits++;
  return digits;
}

function isSeparator(c: number): boolean {
  return c === 32 || c === 45;
}

/** luhnValid of text[start, end), all digits, without slicing it. */
function luhnAt(text: string, start: number, end: number): boolean {
  let sum = 0;
  let double = false;
  for (let i = end - 1; i >= start; i--) {
    let d = text.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

// A full card number (PAN) must never be stored. Any run of 13–19 digits, possibly grouped by single spaces or
// dashes, that passes the Luhn check is masked to first 6 + ****** + last 4 before raw text is kept.

// Digit runs, grouped or not, bounded by non-digits. Longer grouped runs are searched for a card inside them.
const CANDIDATE = /(?<!\d)\d(?:[ -]?\d){12,}(?!\d)/g;

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
 * Whether `text` has 13+ digits in a row (single spaces or dashes allowed between them). A plain loop: the
 * candidate regex, with its lookbehind, costs several times more and runs on every line of every file.
 */
function mayHoldCard(text: string): boolean {
  let run = 0;
  let sep = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++run >= 13) return true;
      sep = false;
    } else if ((c === 32 || c === 45) && run > 0 && !sep) sep = true;
    else {
      run = 0;
      sep = false;
    }
  }
  return false;
}

/** `text` with every card number masked; the same string when there is none (the common case, kept cheap). */
export function maskCardNumbers(text: string): string {
  if (!mayHoldCard(text)) return text;
  return text.replace(CANDIDATE, maskCandidate);
}

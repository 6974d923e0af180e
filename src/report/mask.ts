// The loader masks card numbers before it stores a raw line; the report masks again on the way out, so a line
// stored by an older or faulty loader still never shows a full card number to whoever opens the workbook.

const DIGIT_RUN = /\d{13,19}/g;

function luhnValid(digits: string): boolean {
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

/** Replaces every 13–19 digit run that passes the Luhn check by its first 6 and last 4 digits. */
export function maskCardNumbers(text: string): string {
  return text.replace(DIGIT_RUN, (run) => (luhnValid(run) ? `${run.slice(0, 6)}${'*'.repeat(run.length - 10)}${run.slice(-4)}` : run));
}

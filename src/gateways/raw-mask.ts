// Card numbers inside a record's raw JSON. The raw JSON is stored as the gateway wrote it (record-texts.ts); a full
// card number (PAN) in any of its string values would be stored in the clear. Gateways are not supposed to send one
// (OPPWA's card object has bin and last4Digits), but a free-text field (a descriptor, metadata, a merchant's own
// reference) can carry what a shopper or an integration typed.
import { firstCardNumber, maskCardNumbers } from '../shared/card-mask.js';
import { stringEnd } from './record-texts.js';

/**
 * `text` (a JSON document) with every card number inside its string values masked as card-mask.ts masks text; the
 * same string when there is none. JSON numbers are left alone (an amount or a numeric id is not a card number as
 * written), and so is a string value that is exactly one of `ids` (the record's own id and the id it references,
 * which are stored in the clear as columns anyway; UseePay's 19-digit ids pass the Luhn check one time in ten).
 * Masking puts only digits and asterisks where digits were, so the document stays valid JSON. A number spelled with
 * \u escapes is not recognised (nor is it by the settlement loader's masking).
 *
 * On the pull's hot path: one pass over the char codes finds nothing to mask in nearly every record (about a tenth
 * of JSON.parse's time for the same record; most long digit runs, such as ids of 20+ digits or 19 failing the Luhn
 * check, are ruled out in that pass). Only a run that would be masked costs the walk over the record's strings that
 * decides whether it is inside one.
 */
export function maskCardsInJson(text: string, ids: readonly (string | null)[] = []): string {
  let at = firstCardNumber(text);
  if (at < 0) return text;
  let out: string | null = null;
  let last = 0;
  // Where the walk over strings goes on from: always outside a string.
  let cursor = 0;
  while (at >= 0) {
    // The string the run is in, if any: quotes before it are walked once, string by string.
    let open = -1;
    let close = -1;
    for (;;) {
      const q = text.indexOf('"', cursor);
      if (q < 0 || q > at) break; // outside every string: a JSON number
      const end = stringEnd(text, q);
      cursor = end + 1;
      if (end > at) {
        open = q;
        close = end;
        break;
      }
    }
    if (open < 0) {
      // A number: go on after its digits.
      let next = at;
      while (next < text.length && /[\d -]/.test(text[next]!)) next++;
      at = firstCardNumber(text, next);
      continue;
    }
    const body = text.slice(open + 1, close);
    if (!ids.includes(body)) {
      out = (out ?? '') + text.slice(last, open + 1) + maskCardNumbers(body);
      last = close;
    }
    // The rest of this string is handled.
    at = firstCardNumber(text, close + 1);
  }
  return out === null ? text : out + text.slice(last);
}

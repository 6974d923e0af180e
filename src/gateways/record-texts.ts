// Each record's own text, cut from the page the gateway sent. A pull stores a record's raw JSON as the gateway wrote
// it, not as JSON.stringify would write the parsed value again: the gateway's spelling of numbers ("10.50"), its
// escapes and its whitespace are part of what it said, and serialising every record again cost the pull about as
// much CPU as parsing the page.

/**
 * The exact text of every element of the array that member `key` of a JSON object holds, in order; null when the
 * object has no such member or it is not an array. `text` must be a document that JSON.parse accepted: only
 * strings and brackets are followed here, nothing is validated. As JSON.parse does, the last of several members
 * named `key` counts, and a key spelled with escapes ("rec\u006frds") is that key.
 */
export function arrayElementTexts(text: string, key: string): string[] | null {
  return arrayElements(text, key)?.texts ?? null;
}

/** Each element's text and nesting depth (a scalar 0, `{}` 1, `{"a":[]}` 2), as arrayElementTexts reads them. */
export interface ArrayElements {
  texts: string[];
  depths: number[];
}

/**
 * arrayElementTexts with each element's depth, found on the way for one comparison per bracket: a record nested
 * deeper than PostgreSQL's json parser can follow must be refused before it is sent (see reject.ts).
 */
export function arrayElements(text: string, key: string): ArrayElements | null {
  let found: ArrayElements | null = null;
  let depths: number[] = [];
  // The deepest level the element being read has reached, counted from the array's.
  let deepest = 0;
  let depth = 0;
  // While inside the wanted array: its elements so far, the depth of its elements (else -1), and where the element
  // being read starts (else -1).
  let elements: string[] = [];
  let arrayDepth = -1;
  let start = -1;
  // The last string's quotes: a member's name when a ':' follows it.
  let lastString = -1;
  let lastStringEnd = -1;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (depth === arrayDepth && start < 0) start = i;
      lastString = i;
      lastStringEnd = end;
      i = end;
      continue;
    }
    if (c === COLON) {
      // A member's value follows: is it the wanted key's?
      if (depth === 1 && lastString >= 0 && keyIs(text, lastString, lastStringEnd, key)) {
        const v = nextNonSpace(text, i + 1);
        if (text.charCodeAt(v) === OPEN_ARRAY) {
          elements = [];
          depths = [];
          deepest = 0;
          arrayDepth = 2;
          start = -1;
          depth = 2;
          i = v;
        } else {
          // The last member of that name is not an array: what JSON.parse returns for it is no list either.
          found = null;
        }
      }
      continue;
    }
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (depth === arrayDepth && start < 0) start = i;
      depth++;
      if (arrayDepth >= 0 && depth - arrayDepth > deepest) deepest = depth - arrayDepth;
      continue;
    }
    if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (depth === arrayDepth && c === CLOSE_ARRAY) {
        if (start >= 0) {
          elements.push(trimmedSlice(text, start, i));
          depths.push(deepest);
        }
        found = { texts: elements, depths };
        arrayDepth = -1;
        start = -1;
      }
      depth--;
      continue;
    }
    if (c === COMMA) {
      if (depth === arrayDepth) {
        elements.push(trimmedSlice(text, start, i));
        depths.push(deepest);
        deepest = 0;
        start = -1;
      }
      continue;
    }
    // A number, literal or whitespace: a number or literal starts an element of the wanted array.
    if (depth === arrayDepth && start < 0 && !isSpace(c)) start = i;
  }
  return found;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Index of the quote that closes the string opening at `open`. */
export function stringEnd(text: string, open: number): number {
  let j = open + 1;
  for (;;) {
    j = text.indexOf('"', j);
    if (j < 0) throw new SyntaxError('unterminated string in a JSON document that was parsed');
    // Escaped when preceded by an odd number of backslashes.
    let k = j - 1;
    while (text.charCodeAt(k) === BACKSLASH) k--;
    if ((j - 1 - k) % 2 === 0) return j;
    j++;
  }
}

function keyIs(text: string, open: number, close: number, key: string): boolean {
  if (close - open - 1 === key.length && text.startsWith(key, open + 1)) return true;
  // Escapes spell the same key differently: rare, so decoded only when the string has one.
  const body = text.slice(open, close + 1);
  return body.includes('\\') && (JSON.parse(body) as string) === key;
}

function nextNonSpace(text: string, from: number): number {
  let i = from;
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

function trimmedSlice(text: string, start: number, end: number): string {
  let e = end;
  while (e > start && isSpace(text.charCodeAt(e - 1))) e--;
  return text.slice(start, e);
}

/**
 * The texts and depths of `records`, the parsed array under `key` of page `text`; undefined (the records are then
 * serialised again, and their depth measured on the parsed value) when the page's text does not give exactly one per
 * record, which a page JSON.parse accepted always does.
 */
export function recordTexts(
  text: string,
  key: string,
  records: readonly unknown[],
): ArrayElements | undefined {
  const found = arrayElements(text, key);
  return found !== null && found.texts.length === records.length ? found : undefined;
}

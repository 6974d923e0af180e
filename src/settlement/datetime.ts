// Date and timestamp formats of settlement profiles, in Unicode tokens (yyyy-MM-dd, dd.MM.yyyy HH:mm:ss).
// A pattern is compiled once per profile into segments and each value is parsed by walking them: no regular
// expression is built per line, and an invalid calendar date (2026-02-30) is an error, never rolled over.
import { ConfigError } from '../shared/errors.js';
import { wallToInstantMs } from '../shared/zoned-time.js';

type Field = 'year' | 'year2' | 'month' | 'day' | 'hour' | 'minute' | 'second';
type Segment =
  | { t: 'lit'; text: string }
  | { t: 'num'; field: Field; min: number; max: number }
  | { t: 'frac' }
  | { t: 'offset' }
  | { t: 'opt'; segments: Segment[] };

export interface CompiledPattern {
  source: string;
  segments: Segment[];
  hasTime: boolean;
  hasOffset: boolean;
}

const TOKENS: Record<string, Segment> = {
  yyyy: { t: 'num', field: 'year', min: 4, max: 4 },
  yy: { t: 'num', field: 'year2', min: 2, max: 2 },
  MM: { t: 'num', field: 'month', min: 2, max: 2 },
  M: { t: 'num', field: 'month', min: 1, max: 2 },
  dd: { t: 'num', field: 'day', min: 2, max: 2 },
  d: { t: 'num', field: 'day', min: 1, max: 2 },
  HH: { t: 'num', field: 'hour', min: 2, max: 2 },
  H: { t: 'num', field: 'hour', min: 1, max: 2 },
  mm: { t: 'num', field: 'minute', min: 2, max: 2 },
  ss: { t: 'num', field: 'second', min: 2, max: 2 },
};

/**
 * Compiles a Unicode date pattern. Supported: yyyy yy MM M dd d HH H mm ss S… (fraction) X XX XXX x xxx Z (offset
 * or "Z"), 'quoted text', and [optional section] (one level, as in "ss[.S]").
 */
export function compilePattern(source: string): CompiledPattern {
  const top: Segment[] = [];
  let segments = top;
  const lit = (text: string) => {
    const last = segments[segments.length - 1];
    if (last?.t === 'lit') last.text += text;
    else segments.push({ t: 'lit', text });
  };
  for (let i = 0; i < source.length;) {
    const c = source.charAt(i);
    if (c === "'") {
      const end = source.indexOf("'", i + 1);
      if (end < 0) throw new ConfigError(`date format "${source}": unterminated quote`);
      lit(end === i + 1 ? "'" : source.slice(i + 1, end));
      i = end + 1;
      continue;
    }
    if (c === '[' && segments === top) {
      const opt: Segment = { t: 'opt', segments: [] };
      top.push(opt);
      segments = opt.segments;
      i++;
      continue;
    }
    if (c === ']' && segments !== top) {
      segments = top;
      i++;
      continue;
    }
    if (!/[A-Za-z]/.test(c)) {
      lit(c);
      i++;
      continue;
    }
    let j = i;
    while (source.charAt(j) === c) j++;
    const run = source.slice(i, j);
    i = j;
    if (c === 'S') segments.push({ t: 'frac' });
    else if (c === 'X' || c === 'x' || c === 'Z') segments.push({ t: 'offset' });
    else {
      const seg = TOKENS[run];
      if (!seg) throw new ConfigError(`date format "${source}": unsupported token "${run}"`);
      segments.push(seg);
    }
  }
  if (segments !== top) throw new ConfigError(`date format "${source}": unterminated [`);
  const flat = top.flatMap((s) => (s.t === 'opt' ? s.segments : [s]));
  const fields = flat.flatMap((s) => (s.t === 'num' ? [s.field] : []));
  const hasYear = fields.includes('year') || fields.includes('year2');
  if (!hasYear || !fields.includes('month') || !fields.includes('day')) {
    throw new ConfigError(`date format "${source}": needs a year, month and day`);
  }
  return {
    source,
    segments: top,
    hasTime: fields.includes('hour'),
    hasOffset: flat.some((s) => s.t === 'offset'),
  };
}

export interface DateParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
  /** Minutes east of UTC written in the value, or null for a naive value. */
  offsetMinutes: number | null;
}

const MAX_OFFSET_MINUTES = 18 * 60;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** Matches segments from `pos`, filling `r`; the position after them, or -1. */
function walk(segments: readonly Segment[], text: string, start: number, r: DateParts): number {
  let pos = start;
  for (const seg of segments) {
    if (seg.t === 'lit') {
      if (!text.startsWith(seg.text, pos)) return -1;
      pos += seg.text.length;
    } else if (seg.t === 'num') {
      let v = 0;
      let n = 0;
      while (n < seg.max && pos < text.length && isDigit(text.charCodeAt(pos))) {
        v = v * 10 + (text.charCodeAt(pos) - 48);
        pos++;
        n++;
      }
      if (n < seg.min) return -1;
      if (seg.field === 'year2') r.year = 2000 + v;
      else r[seg.field] = v;
    } else if (seg.t === 'frac') {
      const from = pos;
      while (pos < text.length && isDigit(text.charCodeAt(pos))) pos++;
      if (pos === from) return -1;
      r.ms = Number(text.slice(from, Math.min(pos, from + 3)).padEnd(3, '0'));
    } else if (seg.t === 'offset') {
      if (text.charAt(pos) === 'Z') {
        r.offsetMinutes = 0;
        pos++;
        continue;
      }
      const m = /^([+-])(\d{2}):?(\d{2})?/.exec(text.slice(pos, pos + 6));
      if (!m) return -1;
      const minutes = Number(m[2]) * 60 + Number(m[3] ?? '0');
      // No zone is further from UTC than 18 hours (ISO 8601 practice, java.time's bound); +99:00 is not an offset.
      if (Number(m[3] ?? '0') > 59 || minutes > MAX_OFFSET_MINUTES) return -1;
      r.offsetMinutes = (m[1] === '-' ? -1 : 1) * minutes;
      pos += m[0].length;
    } else {
      const after = walk(seg.segments, text, pos, r);
      if (after >= 0) pos = after;
    }
  }
  return pos;
}

/** Parses `text` against the pattern; null when it does not fit or is not a real calendar moment. */
export function parseParts(p: CompiledPattern, text: string): DateParts | null {
  const r: DateParts = {
    year: 0,
    month: 0,
    day: 0,
    hour: 0,
    minute: 0,
    second: 0,
    ms: 0,
    offsetMinutes: null,
  };
  const pos = walk(p.segments, text, 0, r);
  if (pos < 0 || pos !== text.length) return null;
  if (r.month < 1 || r.month > 12 || r.day < 1) return null;
  const leap = r.year % 4 === 0 && (r.year % 100 !== 0 || r.year % 400 === 0);
  const dim = r.month === 2 && leap ? 29 : (DAYS_IN_MONTH[r.month - 1] ?? 0);
  if (r.day > dim || r.hour > 23 || r.minute > 59 || r.second > 59) return null;
  return r;
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/** A calendar date as 'YYYY-MM-DD', or null. */
export function parseDate(p: CompiledPattern, text: string): string | null {
  const r = parseParts(p, text);
  if (!r || r.year < 1000 || r.year > 9999) return null;
  return `${r.year}-${pad2(r.month)}-${pad2(r.day)}`;
}

/**
 * A moment as epoch milliseconds; a naive value is read as wall time in `timeZone`. Null when invalid, and for a year
 * before 1000 as for dates: Date.UTC reads years 0-99 as 1900-1999, so "0001-01-01" would silently become 1901.
 */
export function parseTimestamp(p: CompiledPattern, text: string, timeZone: string): number | null {
  const r = parseParts(p, text);
  if (!r || r.year < 1000) return null;
  const wall = Date.UTC(r.year, r.month - 1, r.day, r.hour, r.minute, r.second, r.ms);
  if (r.offsetMinutes !== null) return wall - r.offsetMinutes * 60_000;
  if (timeZone === 'UTC') return wall;
  return wallToInstantMs(wall, timeZone);
}

// A profile described in configuration (settlement-files.md, "A custom profile in configuration").
// The schema already checked required columns, the regex and the date formats (a bad one fails the configuration's
// load, naming its key); here the patterns are compiled once.
import type { CustomProfileConfig } from '../../config/profile-schema.js';
import { SETTLEMENT_KINDS } from '../../config/profile-schema.js';
import type { SettlementKind } from '../../db/schema.js';
import { ConfigError } from '../../shared/errors.js';
import { compilePattern } from '../datetime.js';
import type { ResolvedProfile } from './types.js';

const CANONICAL_KINDS = new Set<string>(SETTLEMENT_KINDS);

export function customProfile(c: CustomProfileConfig): ResolvedProfile {
  let filePattern: RegExp;
  try {
    filePattern = new RegExp(c.filePattern);
  } catch (e) {
    throw new ConfigError(
      `settlement.profile.filePattern: invalid regular expression: ${(e as Error).message}`,
      { cause: e },
    );
  }
  const hasDateGroup = /\(\?<date>/.test(c.filePattern);
  // Without a kinds map the file must already use our kind names; with one, only the mapped values are known.
  const kinds = c.kinds ? new Map<string, SettlementKind>(Object.entries(c.kinds)) : null;
  return {
    name: 'custom',
    filePattern,
    fileDateFormat: hasDateGroup ? compilePattern(c.fileDateFormat) : null,
    encoding: c.encoding,
    delimiter: c.delimiter,
    quote: c.quote,
    header: c.header,
    skipLines: c.skipLines,
    trailer: c.trailer,
    decimalSeparator: c.decimalSeparator,
    amountUnit: c.amountUnit,
    signs: c.signs,
    dateFormat: compilePattern(c.dateFormat),
    timestampFormat: compilePattern(c.timestampFormat),
    timezone: c.timezone,
    columns: c.columns,
    kindOf: (text) =>
      kinds ? kinds.get(text) : CANONICAL_KINDS.has(text) ? (text as SettlementKind) : undefined,
    extraColumns: {},
    allowTrailingZeroDecimals: false,
  };
}

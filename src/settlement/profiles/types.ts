// A settlement profile resolved for parsing: everything a parser needs, compiled once (patterns, lookups).
import type { CanonicalColumnName } from './columns.js';
import type { CompiledPattern } from '../datetime.js';
import type { SettlementKind } from '../../db/schema.js';

export type ColumnRef = string | number;

export interface ResolvedProfile {
  /** 'payunity', 'useepay' or 'custom': stored with each file. */
  name: string;
  filePattern: RegExp;
  /** Pattern of the file name's "date" group, or null when the name carries no date. */
  fileDateFormat: CompiledPattern | null;
  encoding: 'utf8' | 'latin1' | 'gbk' | 'gb18030';
  delimiter: string;
  quote: string;
  header: boolean;
  skipLines: number;
  trailer: 'none' | 'payunity';
  decimalSeparator: '.' | ',';
  amountUnit: 'major' | 'minor';
  signs: 'signed' | 'byKind';
  dateFormat: CompiledPattern;
  timestampFormat: CompiledPattern;
  timezone: string;
  columns: Partial<Record<CanonicalColumnName, ColumnRef>>;
  /**
   * The canonical kind of a line, from its kind column and (for built-ins that need it) other fields; undefined
   * for a type the profile does not know, which rejects the line.
   */
  kindOf(kindText: string, field: (name: string) => string): SettlementKind | undefined;
  /** Columns beyond the canonical ones that `kindOf` reads (PayUnity's PaymentType). */
  extraColumns: Record<string, ColumnRef>;
  /** Allow zero decimals beyond the currency's exponent ("56.00" JPY). Off for every profile today: settlement-files.md rejects too many decimals. */
  allowTrailingZeroDecimals: boolean;
}

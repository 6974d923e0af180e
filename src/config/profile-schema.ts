import { z } from 'zod';
import { compilePattern } from '../settlement/datetime.js';
import { bool, num } from './text-values.js';

// The custom settlement profile of settlement-files.md. Every key is public contract: extend, never rename.
export const CANONICAL_COLUMNS = [
  'settlementDate',
  'batchId',
  'kind',
  'transactionId',
  'paymentId',
  'merchantReference',
  'transactionTime',
  'currency',
  'gross',
  'fee',
  'net',
] as const;
export const SETTLEMENT_KINDS = [
  'payment',
  'refund',
  'chargeback',
  'chargeback_reversal',
  'fee',
  'adjustment',
] as const;
export type SettlementKind = (typeof SETTLEMENT_KINDS)[number];

const columnRef = z.union([z.string().min(1), z.number().int().positive()]);

export const customProfileSchema = z
  .strictObject({
    filePattern: z.string().min(1),
    fileDateFormat: z.string().min(1).default('yyyyMMdd'),
    encoding: z.enum(['utf8', 'latin1', 'gbk', 'gb18030']).default('utf8'),
    delimiter: z.string().min(1).default(','),
    quote: z.string().length(1).default('"'),
    header: bool().default(true),
    skipLines: num(z.number().int().min(0)).default(0),
    trailer: z.enum(['none', 'payunity']).default('none'),
    decimalSeparator: z.enum(['.', ',']).default('.'),
    amountUnit: z.enum(['major', 'minor']).default('major'),
    signs: z.enum(['signed', 'byKind']).default('signed'),
    dateFormat: z.string().min(1).default('yyyy-MM-dd'),
    timestampFormat: z.string().min(1).default("yyyy-MM-dd'T'HH:mm:ss'Z'"),
    timezone: z.string().default('UTC'),
    columns: z.partialRecord(z.enum(CANONICAL_COLUMNS), columnRef),
    kinds: z.record(z.string(), z.enum(SETTLEMENT_KINDS)).optional(),
  })
  .superRefine((p, ctx) => {
    let hasDateGroup = false;
    try {
      const re = new RegExp(p.filePattern);
      hasDateGroup = /\(\?<date>/.test(re.source);
      if (!p.columns.settlementDate && !hasDateGroup) {
        ctx.addIssue({
          code: 'custom',
          path: ['columns', 'settlementDate'],
          message: 'required (or a "date" group in filePattern)',
        });
      }
    } catch (e) {
      ctx.addIssue({
        code: 'custom',
        path: ['filePattern'],
        message: `invalid regular expression: ${(e as Error).message}`,
      });
    }
    for (const key of ['kind', 'currency', 'gross'] as const) {
      if (p.columns[key] === undefined)
        ctx.addIssue({ code: 'custom', path: ['columns', key], message: 'required' });
    }
    if (p.columns.transactionId === undefined && p.columns.merchantReference === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['columns', 'transactionId'],
        message: 'required: transactionId or merchantReference',
      });
    }
    const positional = Object.values(p.columns).some((c) => typeof c === 'number');
    const named = Object.values(p.columns).some((c) => typeof c === 'string');
    if (!p.header && named)
      ctx.addIssue({
        code: 'custom',
        path: ['columns'],
        message: 'header is false: give columns as 1-based positions',
      });
    if (positional && named)
      ctx.addIssue({
        code: 'custom',
        path: ['columns'],
        message: 'give every column by name or every column by position, not both',
      });
    // Compiled as the settlement parser compiles them (fileDateFormat only when the name has a date to read), so a
    // bad token fails every command at load, naming its key, instead of failing a run that has already started.
    const formats = [
      'dateFormat',
      'timestampFormat',
      ...(hasDateGroup ? ['fileDateFormat' as const] : []),
    ] as const;
    for (const key of formats) {
      try {
        compilePattern(p[key]);
      } catch (e) {
        ctx.addIssue({ code: 'custom', path: [key], message: (e as Error).message });
      }
    }
    if (!isTimeZone(p.timezone))
      ctx.addIssue({ code: 'custom', path: ['timezone'], message: `unknown time zone "${p.timezone}"` });
  });
export type CustomProfileConfig = z.infer<typeof customProfileSchema>;

export const BUILTIN_PROFILES = ['payunity', 'useepay'] as const;
export type BuiltinProfileName = (typeof BUILTIN_PROFILES)[number];
export type ProfileSetting = BuiltinProfileName | CustomProfileConfig;

/**
 * `settlement.profile`: a built-in profile by name, or a custom profile object. Chosen by the value's type rather
 * than by a z.union, which reports a bare "Invalid input" when no option fits and so loses the custom profile's key
 * paths (`profile.encoding: …`) and the list of built-in names.
 */
export const profileSettingSchema = z.unknown().transform((value, ctx): ProfileSetting => {
  if (typeof value === 'string') {
    if ((BUILTIN_PROFILES as readonly string[]).includes(value)) return value as BuiltinProfileName;
    ctx.addIssue({
      code: 'custom',
      message: `unknown profile "${value}": use a built-in profile (${BUILTIN_PROFILES.join(', ')}) or a custom profile object`,
    });
    return z.NEVER;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a built-in profile name (${BUILTIN_PROFILES.join(', ')}) or a custom profile object`,
    });
    return z.NEVER;
  }
  const custom = customProfileSchema.safeParse(value);
  if (custom.success) return custom.data;
  // Paths stay relative to the profile; the enclosing schemas prefix the rest (providers.….settlement.profile).
  for (const issue of custom.error.issues) ctx.addIssue({ ...issue });
  return z.NEVER;
});

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

import { z } from 'zod';
import { isIsoDate } from '../shared/dates.js';
import { currencyProblem, isCurrency, parseMajorToMinor } from '../shared/money.js';
import { cronProblem } from '../schedule/cron-time.js';
import { isTimeZone, profileSettingSchema, type BuiltinProfileName } from './profile-schema.js';
import { scheduleArgsSchema } from './schedule-args.js';
import { bool, num } from './text-values.js';
import { DEFAULT_POOL_SIZE, MIN_POOL_SIZE } from '../db/pool-size.js';

/**
 * What node-postgres can connect with: a postgres:// or postgresql:// URL (socket: too), or a socket directory. The
 * value is never echoed: it holds the password.
 */
function isPostgresUrl(v: string): boolean {
  if (v.startsWith('/')) return true;
  try {
    return ['postgres:', 'postgresql:', 'socket:'].includes(new URL(v).protocol);
  } catch {
    return false;
  }
}
const timeZone = z.string().refine(isTimeZone, { message: 'unknown time zone' });
const isoDate = z
  .union([z.string(), z.date()])
  .transform((v) => (v instanceof Date ? v.toISOString().slice(0, 10) : v))
  .refine(isIsoDate, { message: 'expected YYYY-MM-DD' });
const AMOUNT_TEXT = /^\d+(\.\d+)?$/;
const AMOUNT_MESSAGE = 'expected an amount of zero or more, such as 500.00';
/** An amount in major units as a person types it (500, 500.00, '500.00'); kept as decimal text for exact conversion. */
const majorAmount = z
  .union([z.number(), z.string()], { error: AMOUNT_MESSAGE })
  .transform((v) => String(v))
  .refine((text) => AMOUNT_TEXT.test(text), { message: AMOUNT_MESSAGE });
const currencyCode = z.string().refine(isCurrency, {
  error: (issue) => `${currencyProblem(String(issue.input))}: expected one such as EUR`,
});
/**
 * An issue at `path` when an amount has more decimals than `currency` has (500.005 EUR), never rounded later. zod
 * runs the refinements below also over values whose own checks failed, so anything but a well-formed amount of a
 * known currency is left alone here: it has its issue already, and one message per key is enough.
 */
function checkDecimals(
  ctx: z.RefinementCtx,
  path: (string | number)[],
  text: unknown,
  currency: unknown,
): void {
  if (typeof text !== 'string' || !AMOUNT_TEXT.test(text)) return;
  if (typeof currency !== 'string' || !isCurrency(currency)) return;
  try {
    parseMajorToMinor(text, currency);
  } catch (e) {
    ctx.addIssue({ code: 'custom', path, message: (e as Error).message });
  }
}
const perCurrency = z.record(currencyCode, majorAmount).superRefine((caps, ctx) => {
  for (const [currency, text] of Object.entries(caps)) checkDecimals(ctx, [currency], text, currency);
});

const feeRule = z
  .strictObject({
    currency: currencyCode,
    brand: z.string().optional(),
    percent: majorAmount,
    fixed: majorAmount.default('0'),
    tolerance: majorAmount.default('0'),
  })
  .superRefine((rule, ctx) => {
    checkDecimals(ctx, ['fixed'], rule.fixed, rule.currency);
    checkDecimals(ctx, ['tolerance'], rule.tolerance, rule.currency);
  });

/** The longest minimum file age: beyond it a file would wait past every late-file report. */
const WEEK_SECONDS = 7 * 24 * 3600;

const sftpSchema = z
  .strictObject({
    host: z.string().min(1),
    port: num(z.number().int().min(1).max(65535)).default(22),
    username: z.string().min(1),
    password: z.string().optional(),
    privateKeyPath: z.string().optional(),
    passphrase: z.string().optional(),
    hostKeySha256: z
      .string()
      .regex(/^SHA256:[A-Za-z0-9+/]+=*$/, 'expected SHA256:… as ssh-keygen -l prints it')
      .optional(),
    insecureSkipHostKeyCheck: bool().default(false),
    remoteDir: z.string().default('.'),
    readyTimeoutSeconds: num(z.number().positive()).default(20),
    parallelDownloads: num(z.number().int().min(1).max(16)).default(2),
    retries: num(z.number().int().min(0).max(20)).default(3),
    /** False for servers whose listing gives another size than they serve: downloads are then not checked by it. */
    checkListedSize: bool().default(true),
  })
  .superRefine((s, ctx) => {
    if (!s.password && !s.privateKeyPath) {
      ctx.addIssue({
        code: 'custom',
        path: ['privateKeyPath'],
        message: 'required: privateKeyPath or password',
      });
    }
    if (!s.hostKeySha256 && !s.insecureSkipHostKeyCheck) {
      ctx.addIssue({
        code: 'custom',
        path: ['hostKeySha256'],
        message:
          "required: the server's fingerprint, SHA256:… (ask its operator, or read it from a trusted network with " +
          '`ssh-keyscan -p <port> <host> | ssh-keygen -lf -`); or set insecureSkipHostKeyCheck: true',
      });
    }
  });

const settlementSchema = (defaultProfile: BuiltinProfileName) =>
  z
    .strictObject({
      source: z.enum(['sftp', 'local']).default('local'),
      profile: profileSettingSchema.default(defaultProfile),
      sftp: sftpSchema.optional(),
      localDir: z.string().optional(),
      archiveDir: z.string().optional(),
      /** Local time (configured time zone) on the settlement date by which that date's file is expected. */
      expectedBy: z
        .string()
        .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM')
        .default('12:00'),
      /** Which dates a file is expected for: business days only, or every day. */
      expectedOn: z.enum(['business_days', 'every_day']).default('business_days'),
      /** A file modified less than this long before the fetch started is left for the next fetch; 0: off. */
      minFileAgeSeconds: num(z.number().int().min(0).max(WEEK_SECONDS)).default(0),
    })
    .superRefine((s, ctx) => {
      if (s.source === 'sftp' && !s.sftp)
        ctx.addIssue({ code: 'custom', path: ['sftp'], message: 'required when source is sftp' });
      if (s.source === 'local' && !s.localDir)
        ctx.addIssue({ code: 'custom', path: ['localDir'], message: 'required when source is local' });
    });

const pullSchema = z
  .strictObject({
    /** Days before the requested range that every run pulls again, because statuses change after creation. */
    trailingDays: num(z.number().int().min(0).max(90)).default(7),
    timeoutSeconds: num(z.number().positive()).default(30),
    concurrency: num(z.number().int().min(1).max(32)).default(4),
    retries: num(z.number().int().min(0).max(20)).default(5),
  })
  .prefault({});

const providerCommon = {
  enabled: bool().default(true),
  baseUrl: z.url(),
  settlementLagDays: num(z.number().int().min(0).max(60)).default(3),
  fees: z.array(feeRule).default([]),
  pull: pullSchema,
};

export const payunitySchema = z.strictObject({
  ...providerCommon,
  entityId: z.string().min(1),
  accessToken: z.string().min(1),
  settlement: settlementSchema('payunity'),
});

export const useepaySchema = z.strictObject({
  ...providerCommon,
  settlementLagDays: num(z.number().int().min(0).max(60)).default(2),
  merchantNo: z.string().regex(/^\d+$/, 'expected digits (quote it in YAML)'),
  appId: z.string().min(1),
  apiKey: z.string().min(1),
  apiVersion: z.string().default('2025-11-06'),
  settlement: settlementSchema('useepay'),
});

export const configSchema = z.strictObject({
  timezone: timeZone.default('UTC'),
  holidays: z.array(isoDate).default([]),
  database: z
    .strictObject({
      url: z
        .string()
        .refine(isPostgresUrl, {
          message: 'not a PostgreSQL URL such as postgres://user:password@host:5432/payrecon',
        })
        .optional(),
      // Connections this process may open: at most the server's (or pooler's, or role's) room for one payrecon
      // command, at least what a run needs to finish (db/pool-size.ts).
      poolSize: num(
        z
          .number()
          .int()
          .min(MIN_POOL_SIZE, {
            error: `at least ${MIN_POOL_SIZE}: a run holds its lock on one connection and works on both providers at once, and would stall with fewer`,
          }),
      ).default(DEFAULT_POOL_SIZE),
      embedded: z
        .strictObject({
          dataDir: z.string().default('.payrecon/pg'),
          port: num(z.number().int().min(1024).max(65535)).default(25432),
        })
        .prefault({}),
    })
    .prefault({}),
  reports: z.strictObject({ dir: z.string().default('./reports') }).prefault({}),
  providers: z
    .strictObject({ payunity: payunitySchema.optional(), useepay: useepaySchema.optional() })
    .refine((p) => p.payunity !== undefined || p.useepay !== undefined, {
      message: 'configure at least one provider',
    }),
  refunds: z
    .strictObject({ maxPerRefund: perCurrency.default({}), maxPerExecution: perCurrency.default({}) })
    .prefault({}),
  schedule: z
    .strictObject({
      cron: z
        .string()
        .default('30 2 * * *')
        .superRefine((expression, ctx) => {
          const problem = cronProblem(expression);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }),
      timezone: timeZone.optional(),
      args: scheduleArgsSchema.default(['run', '--date', 'yesterday']),
      /** Start a run at start-up when the last scheduled time passed while the scheduler was down. */
      catchUp: bool().default(false),
    })
    .prefault({}),
  notify: z
    .strictObject({
      webhookUrl: z.url().optional(),
      retries: num(z.number().int().min(0).max(10)).default(3),
      timeoutSeconds: num(z.number().positive()).default(10),
    })
    .prefault({}),
  log: z
    .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info') })
    .prefault({}),
});

export type Config = z.infer<typeof configSchema>;
export type PayunityConfig = z.infer<typeof payunitySchema>;
export type UseepayConfig = z.infer<typeof useepaySchema>;
export type ProviderName = 'payunity' | 'useepay';
export const PROVIDERS: readonly ProviderName[] = ['payunity', 'useepay'];
export type SettlementConfig = PayunityConfig['settlement'];
export type SftpConfig = z.infer<typeof sftpSchema>;
export type FeeRule = z.infer<typeof feeRule>;

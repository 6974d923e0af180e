import pino, { type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';

export type Logger = PinoLogger;

export interface LogOptions {
  level?: string;
  /** Values to blank out of every line, whatever field or message they appear in. */
  scrub?: (line: string) => string;
  /** Readable output for people; JSON lines otherwise. Default: whether stderr is a terminal. */
  pretty?: boolean;
}

// Secret-bearing keys are redacted by path; any other place a secret value appears is caught by `scrub`.
const REDACT_PATHS = [
  'accessToken',
  '*.accessToken',
  'apiKey',
  '*.apiKey',
  'password',
  '*.password',
  'passphrase',
  '*.passphrase',
  'headers.authorization',
  'headers["x-api-key"]',
  '*.headers.authorization',
  '*.headers["x-api-key"]',
];

/** Logs go to stderr, so that stdout carries only a command's result (`--json`). */
export function createLogger(opts: LogOptions = {}): Logger {
  const usePretty = opts.pretty ?? process.stderr.isTTY;
  const destination = usePretty
    ? pretty({
        destination: 2,
        sync: true,
        colorize: true,
        ignore: 'pid,hostname',
        translateTime: 'SYS:HH:MM:ss',
      })
    : pino.destination({ dest: 2, sync: true });
  return pino(
    {
      level: opts.level ?? 'info',
      base: undefined,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      hooks: opts.scrub ? { streamWrite: opts.scrub } : {},
    },
    destination,
  );
}

/** For tests and library use: a logger that writes nothing. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

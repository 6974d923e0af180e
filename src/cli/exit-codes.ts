import { CommanderError } from 'commander';
import { causeChain, ConfigError, LockHeldError, UsageError } from '../shared/errors.js';

export const EXIT = { ok: 0, failed: 1, usage: 2, locked: 3 } as const;

/** The one place where errors become exit codes (interface.md, "Exit codes"). */
export function exitCodeFor(error: unknown): number {
  if (error instanceof LockHeldError) return EXIT.locked;
  if (error instanceof UsageError || error instanceof ConfigError) return EXIT.usage;
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  return EXIT.failed;
}

/** One line saying what failed; the cause chain only adds what the message does not already say. */
export function oneLine(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  let msg = error.message;
  if (!(error instanceof ConfigError || error instanceof UsageError))
    for (const cause of causeChain(error).slice(1))
      if (!msg.includes(cause.message)) msg += `: ${cause.message}`;
  return msg.replace(/\s*\n\s*/g, ' ');
}

/** The --json object of a command that failed without a result of its own: what happened, and its exit code. */
export function failureResult(
  error: unknown,
  exitCode: number,
  scrub: (text: string) => string,
): { status: 'skipped' | 'failed'; exitCode: number; error: string } {
  const message = oneLine(error).replace(/^error: /, '');
  return { status: exitCode === EXIT.locked ? 'skipped' : 'failed', exitCode, error: scrub(message) };
}

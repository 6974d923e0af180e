// The program's entry: parses the command line, runs the command, maps errors to exit codes.
import { CommanderError } from 'commander';
import { scrubKnownSecrets } from '../config/redact.js';
import { limitHeapGrowth } from '../shared/heap.js';
import { EXIT, exitCodeFor, failureResult, oneLine } from './exit-codes.js';
import { buildProgram } from './program.js';

limitHeapGrowth();

const controller = new AbortController();
const cleanups = new Set<() => Promise<void>>();

async function runCleanups(): Promise<void> {
  const fns = [...cleanups];
  cleanups.clear();
  await Promise.allSettled(fns.map((fn) => fn()));
}

let interrupts = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    interrupts += 1;
    if (interrupts === 1) {
      process.stderr.write(
        `payrecon: ${sig} received, stopping at the next safe point (send again to stop now)\n`,
      );
      controller.abort(new Error(`interrupted by ${sig}`));
      // A command that does not reach a safe point in time is stopped anyway, cleanly.
      setTimeout(() => void runCleanups().finally(() => process.exit(EXIT.failed)), 30_000).unref();
    } else {
      void runCleanups().finally(() => process.exit(EXIT.failed));
    }
  });
}

const verbose = process.argv.includes('--verbose');
const json = process.argv.includes('--json');
let wroteResult = false;
const program = buildProgram({
  env: process.env,
  signal: controller.signal,
  stdout: (text) => {
    wroteResult = true;
    return process.stdout.write(text);
  },
  onShutdown(fn) {
    cleanups.add(fn);
    return () => cleanups.delete(fn);
  },
});

try {
  await program.parseAsync(process.argv);
  process.exitCode = EXIT.ok;
} catch (error) {
  const code = exitCodeFor(error);
  // --json promises one object on stdout, also when the command fails before it has a result of its own (the lock
  // held by another run, a bad date, an unreachable database): cron's JSON-lines file gets a line for every run.
  if (json && !wroteResult && code !== EXIT.ok)
    process.stdout.write(JSON.stringify(failureResult(error, code, scrubKnownSecrets)) + '\n');
  if (!(error instanceof CommanderError)) {
    process.stderr.write(`payrecon: ${scrubKnownSecrets(oneLine(error))}\n`);
    if (verbose && error instanceof Error && error.stack)
      process.stderr.write(scrubKnownSecrets(error.stack) + '\n');
  }
  process.exitCode = code;
} finally {
  await runCleanups();
}

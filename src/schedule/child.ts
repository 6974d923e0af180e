// One scheduled run = one child process of the CLI itself: fresh memory every night, and the run's own lock and
// exit codes decide what happened, exactly as for a run started by hand.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** bin/payrecon.js, found upwards from this file: it sits at a different depth in src/ (tests) and dist/src/. */
export function resolveBinPath(from: string = import.meta.url): string {
  let dir = path.dirname(fileURLToPath(from));
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, 'bin', 'payrecon.js');
    if (existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error(`cannot find bin/payrecon.js above ${fileURLToPath(from)}`);
}

export interface ChildOutcome {
  pid: number | undefined;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  durationMs: number;
  /** The last JSON object the child printed on stdout (its --json result), if any. */
  result: unknown;
  /**
   * The last line on the child's stderr that says what failed: the CLI's own `payrecon: …` line, or a log line at
   * error level. Not simply the last line: a `--verbose` stack trace follows the former, and a child killed or
   * crashed mid-run leaves an ordinary log line (or Node's own crash output) last.
   */
  lastErrorLine: string | undefined;
}

export interface ChildRun {
  pid: number | undefined;
  done: Promise<ChildOutcome>;
  /** Sends a signal to the child (SIGTERM to stop at its next safe point, SIGKILL as the last resort). */
  kill(signal: NodeJS.Signals): void;
}

export interface SpawnOptions {
  execPath: string;
  binPath: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Where the child's log lines go (the scheduler's own stderr). */
  stderr: NodeJS.WritableStream;
}

const STDOUT_LIMIT = 4 * 1024 * 1024;

export function spawnCli(opts: SpawnOptions): ChildRun {
  const started = Date.now();
  // A process group of its own: a Ctrl-C at the terminal reaches only the scheduler, which forwards one SIGTERM.
  // Two signals would make the child stop at once instead of at its next safe point.
  const child = spawn(opts.execPath, [opts.binPath, ...opts.args], {
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderrTail = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    if (stdout.length < STDOUT_LIMIT) stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    opts.stderr.write(d);
    stderrTail = (stderrTail + d).slice(-4096);
  });
  const done = new Promise<ChildOutcome>((resolve) => {
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null, spawnError?: Error) =>
      resolve({
        pid: child.pid,
        exitCode,
        signal,
        durationMs: Date.now() - started,
        result: lastJsonObject(stdout),
        lastErrorLine: spawnError
          ? `cannot start ${opts.execPath}: ${spawnError.message}`
          : lastFailureLine(stderrTail),
      });
    child.once('error', (e) => finish(null, null, e));
    child.once('close', (code, signal) => finish(code, signal));
  });
  return {
    pid: child.pid,
    done,
    kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

function lastFailureLine(text: string): string | undefined {
  const lines = text.split('\n').map((l) => l.trim());
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] ?? '';
    // Node's own last words when it dies of itself ("FATAL ERROR: … JavaScript heap out of memory") count too.
    if (line.startsWith('payrecon:') || line.startsWith('FATAL ERROR:') || isErrorLogLine(line)) return line;
  }
  return undefined;
}

/** A pino line at level error (50) or fatal (60). */
function isErrorLogLine(line: string): boolean {
  if (!line.startsWith('{')) return false;
  try {
    const level = (JSON.parse(line) as { level?: unknown }).level;
    return typeof level === 'number' && level >= 50;
  } catch {
    return false;
  }
}

/** `--json` promises one object on stdout; take the last line that parses as one. */
export function lastJsonObject(text: string): unknown {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('{'));
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const v: unknown = JSON.parse(lines[i] ?? '');
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v;
    } catch {
      // not JSON: a stray line; keep looking
    }
  }
  return undefined;
}

// A stand-in for bin/payrecon.js in scheduler tests: a real process whose behaviour the test sets through the
// environment, recording when it started and ended so the test can prove runs never overlapped. Kept as text and
// written to a temporary file by the test, because the lint project covers TypeScript files only.
export const FAKE_CLI_SOURCE = String.raw`
import { appendFileSync } from 'node:fs';

const env = process.env;
const record = (what) => env.FAKE_LOG && appendFileSync(env.FAKE_LOG, what + ' ' + process.pid + ' ' + Date.now() + '\n');
let exiting = false;
const finish = (code) => {
  if (exiting) return;
  exiting = true;
  record('end');
  if (env.FAKE_STDERR) process.stderr.write(env.FAKE_STDERR + '\n');
  if (code === 0 && env.FAKE_JSON) process.stdout.write(env.FAKE_JSON + '\n');
  process.exit(code);
};
process.on('SIGTERM', () => {
  record('sigterm');
  if (env.FAKE_IGNORE_TERM === '1') return;
  // Like the real CLI: finish the current stage, then stop.
  setTimeout(() => finish(1), Number(env.FAKE_TERM_MS ?? 100));
});
// Recorded only once the SIGTERM handler is in place: a test that waits for 'start' before stopping the scheduler
// knows the signal reaches the handler, however long the machine kept this process from running.
record('start');
process.stderr.write(JSON.stringify({ level: 30, msg: 'fake run started', args: process.argv.slice(2) }) + '\n');
setTimeout(() => finish(Number(env.FAKE_EXIT ?? 0)), Number(env.FAKE_SLEEP_MS ?? 0));
`;

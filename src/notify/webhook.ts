// After a run, a JSON summary goes to a webhook (a Slack incoming webhook shows `text`). A notification is a
// courtesy: it retries, gives up, logs, and never turns a finished run into a failed one.
import type { Config } from '../config/schema.js';
import type { Logger } from '../shared/log.js';
import { summaryText, type RunSummary } from './summary.js';

export interface NotifyDeps {
  fetch?: typeof fetch;
  log: Logger;
  /** Backoff between attempts (tests shorten it). */
  sleep?: (ms: number) => Promise<void>;
}

export interface NotifyOutcome {
  sent: boolean;
  attempts: number;
  /** Why the last attempt failed, when it did. */
  error?: string;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Backoff before attempt n+1: 1 s, 2 s, 4 s … capped at 30 s. */
function backoffMs(attempt: number): number {
  return Math.min(30_000, 1000 * 2 ** (attempt - 1));
}

/** The webhook URL often embeds a token (Slack's does): logs name only its origin. */
function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid url)';
  }
}

/** What a redirect answer says, naming only the origin it points to (its path may hold a token too). */
function redirectNote(location: string | null, url: string): string {
  let to = '';
  try {
    if (location) to = ` to ${new URL(location, url).origin}`;
  } catch {
    // an unreadable Location: the status alone says enough
  }
  return ` (a redirect${to}: set notify.webhookUrl to the address it redirects to)`;
}

export async function notifyRun(
  config: Config,
  summary: RunSummary,
  deps: NotifyDeps,
): Promise<NotifyOutcome> {
  const url = config.notify.webhookUrl;
  if (!url) return { sent: false, attempts: 0 };
  const doFetch = deps.fetch ?? fetch;
  const sleep = deps.sleep ?? defaultSleep;
  const body = JSON.stringify({ text: summaryText(summary), ...summary });
  const maxAttempts = config.notify.retries + 1;
  let error = '';
  let attempt = 0;
  while (attempt < maxAttempts) {
    attempt += 1;
    let retryable = true;
    try {
      const res = await doFetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(config.notify.timeoutSeconds * 1000),
        // A redirect is not followed: fetch turns a POST into a GET on 301/302/303 (the summary is lost while the
        // GET's 200 looked like a delivery), and a 307/308 would send the summary to wherever it points.
        redirect: 'manual',
      });
      // Drain the body so the connection is reusable; its content is not needed.
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) {
        deps.log.info({ webhook: origin(url), attempts: attempt, runId: summary.runId }, 'notification sent');
        return { sent: true, attempts: attempt };
      }
      error = `HTTP ${res.status}`;
      if (res.status >= 300 && res.status < 400) error += redirectNote(res.headers.get('location'), url);
      // Other 4xx answers (a wrong or revoked URL) and redirects will not change by asking again.
      retryable = res.status === 408 || res.status === 429 || res.status >= 500;
    } catch (e) {
      const err = e as Error;
      // fetch says only "fetch failed"; its cause says why (ECONNREFUSED, ENOTFOUND, a port fetch refuses).
      const cause = err.cause as { code?: unknown; message?: unknown } | undefined;
      const why = typeof cause?.code === 'string' ? cause.code : cause?.message;
      error =
        err.name === 'TimeoutError'
          ? `no answer within ${config.notify.timeoutSeconds} s`
          : typeof why === 'string' && why !== ''
            ? `${err.message} (${why})`
            : err.message;
    }
    if (!retryable || attempt === maxAttempts) break;
    deps.log.warn({ webhook: origin(url), attempt, error }, 'notification failed, retrying');
    await sleep(backoffMs(attempt));
  }
  deps.log.error(
    { webhook: origin(url), attempts: attempt, error },
    'notification not delivered; the run result stands',
  );
  return { sent: false, attempts: attempt, error };
}

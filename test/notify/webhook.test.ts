import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { summaryText, type RunSummary } from '../../src/notify/summary.js';
import type { RunResult } from '../../src/jobs/manifest.js';
import { formatRunResult } from '../../src/jobs/summary.js';
import { notifyRun } from '../../src/notify/webhook.js';

interface Received {
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** A real HTTP listener; `answer` picks the status (or hangs) for the nth request. */
async function listen(
  answer: (n: number) => number | 'hang',
): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8').on('data', (d: string) => (text += d));
    req.on('end', () => {
      received.push({ headers: req.headers, body: text ? JSON.parse(text) : {} });
      const a = answer(received.length);
      if (a === 'hang') return; // never answers: the client's timeout must end it
      res.writeHead(a).end(a === 200 ? 'ok' : 'nope');
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks/T000/SECRETTOKEN`, received };
}

function configWith(url: string, extra: Record<string, unknown> = {}) {
  return parseConfig(
    {
      providers: {
        payunity: {
          baseUrl: 'http://127.0.0.1:1',
          entityId: 'e',
          accessToken: 'tok-123456',
          settlement: { localDir: '/tmp/x' },
        },
      },
      notify: { webhookUrl: url, ...extra },
    },
    {},
  ).config;
}

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()));
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

const summary: RunSummary = {
  runId: 42,
  from: '2026-11-20',
  to: '2026-11-20',
  status: 'succeeded',
  reportPath: 'reports/payrecon_2026-11-20_2026-11-20_run-42.xlsx',
  providers: ['payunity', 'useepay'],
  counts: {
    matched: 120,
    awaitingSettlement: 4,
    rejectedLines: 0,
    discrepancies: { amount_mismatch: 2, missing_in_settlement: 1, fee_mismatch: 0 },
  },
  lateFiles: [
    {
      provider: 'useepay',
      settlementDate: '2026-11-20',
      expectedBy: '2026-11-20T11:00:00.000Z',
      status: 'late',
    },
  ],
};

/** A succeeded run's result, nothing in it but what `over` sets: the text summary's input. */
function runResult(
  over: Partial<Omit<RunResult, 'counts'>> & { counts?: Partial<RunResult['counts']> },
): RunResult {
  return {
    runId: 3,
    from: '2026-11-20',
    to: '2026-11-20',
    status: 'succeeded',
    reportPath: null,
    providers: ['payunity'],
    lateFiles: [],
    files: [],
    awaitingHeld: [],
    ...over,
    counts: {
      matched: 0,
      awaitingSettlement: 0,
      rejectedLines: 0,
      rejectedRecords: 0,
      discrepancies: {},
      ...over.counts,
    },
  };
}

describe('notifyRun', () => {
  it('POSTs the summary with a one-line text a chat webhook shows', async () => {
    const hook = await listen(() => 200);
    const { log } = capture();
    const outcome = await notifyRun(configWith(hook.url), summary, { log });
    expect(outcome).toEqual({ sent: true, attempts: 1 });
    expect(hook.received).toHaveLength(1);
    const got = hook.received[0]!;
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.body).toMatchObject({
      runId: 42,
      status: 'succeeded',
      counts: summary.counts,
      lateFiles: summary.lateFiles,
    });
    expect(got.body.text).toBe(
      'payrecon run 42 payunity, useepay 2026-11-20: succeeded; 3 discrepancies (amount_mismatch 2, missing_in_settlement 1); ' +
        '1 late settlement file (useepay 2026-11-20); report reports/payrecon_2026-11-20_2026-11-20_run-42.xlsx',
    );
  });

  it('retries a failing listener with backoff, then gives up without throwing, never logging the URL token', async () => {
    const hook = await listen(() => 503);
    const { log, lines } = capture();
    const waits: number[] = [];
    const outcome = await notifyRun(configWith(hook.url, { retries: 2 }), summary, {
      log,
      sleep: (ms) => (waits.push(ms), Promise.resolve()),
    });
    expect(outcome).toEqual({ sent: false, attempts: 3, error: 'HTTP 503' });
    expect(hook.received).toHaveLength(3);
    expect(waits).toEqual([1000, 2000]);
    expect(lines.filter((l) => l.msg === 'notification failed, retrying')).toHaveLength(2);
    expect(lines.at(-1)).toMatchObject({
      level: 50,
      msg: 'notification not delivered; the run result stands',
    });
    expect(JSON.stringify(lines)).not.toContain('SECRETTOKEN');
  });

  it('succeeds on a later attempt after a failure', async () => {
    const hook = await listen((n) => (n < 2 ? 500 : 200));
    const outcome = await notifyRun(configWith(hook.url), summary, {
      log: capture().log,
      sleep: () => Promise.resolve(),
    });
    expect(outcome).toEqual({ sent: true, attempts: 2 });
  });

  it('does not retry a 404 (a wrong URL stays wrong)', async () => {
    const hook = await listen(() => 404);
    const outcome = await notifyRun(configWith(hook.url), summary, {
      log: capture().log,
      sleep: () => Promise.resolve(),
    });
    expect(outcome).toMatchObject({ sent: false, attempts: 1, error: 'HTTP 404' });
  });

  it('does not follow a redirect: a POST turned into a GET is not a delivery, and the summary goes nowhere else', async () => {
    const target = await listen(() => 200);
    const targetServer = server;
    const moved: string[] = [];
    const hook = createServer((req, res) => {
      moved.push(req.method ?? '');
      req.resume();
      const to = new URL(target.url);
      to.pathname = req.method === 'POST' ? '/moved/SECRETTOKEN2' : req.url!;
      res.writeHead(moved.length === 1 ? 302 : 307, { location: to.href }).end();
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    try {
      const { port } = hook.address() as AddressInfo;
      const { log, lines } = capture();
      const url = `http://127.0.0.1:${port}/hooks/T000/SECRETTOKEN`;
      for (const _ of [302, 307]) {
        const outcome = await notifyRun(configWith(url), summary, { log, sleep: () => Promise.resolve() });
        expect(outcome).toMatchObject({ sent: false, attempts: 1 });
        expect(outcome.error).toMatch(
          /^HTTP 30[27] \(a redirect to http:\/\/127\.0\.0\.1:\d+: set notify\.webhookUrl to the address it redirects to\)$/,
        );
      }
      expect(moved).toEqual(['POST', 'POST']);
      expect(target.received).toHaveLength(0);
      expect(JSON.stringify(lines)).not.toContain('SECRETTOKEN');
    } finally {
      server = targetServer;
      await new Promise<void>((r) => hook.close(() => r()));
    }
  });

  it('times out a listener that never answers', async () => {
    const hook = await listen((n) => (n === 1 ? 'hang' : 200));
    const outcome = await notifyRun(configWith(hook.url, { timeoutSeconds: 0.3 }), summary, {
      log: capture().log,
      sleep: () => Promise.resolve(),
    });
    expect(outcome).toEqual({ sent: true, attempts: 2 });
    server?.closeAllConnections();
  });

  it('an unreachable webhook is logged, not thrown; no webhook configured sends nothing', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((r) => closed.close(() => r()));
    const outcome = await notifyRun(configWith(`http://127.0.0.1:${port}/x`, { retries: 1 }), summary, {
      log: capture().log,
      sleep: () => Promise.resolve(),
    });
    expect(outcome).toEqual({ sent: false, attempts: 2, error: 'fetch failed (ECONNREFUSED)' });
    // Port 9 is one fetch refuses to call at all: the reason says so.
    const badPort = await notifyRun(configWith('http://127.0.0.1:9/x', { retries: 0 }), summary, {
      log: capture().log,
    });
    expect(badPort).toEqual({ sent: false, attempts: 1, error: 'fetch failed (bad port)' });
    const none = await notifyRun(
      { ...configWith('http://x.invalid/'), notify: { retries: 3, timeoutSeconds: 1 } },
      summary,
      { log: capture().log },
    );
    expect(none).toEqual({ sent: false, attempts: 0 });
  });
});

describe('summaryText', () => {
  it('says what failed for a failure summary', () => {
    expect(
      summaryText({
        status: 'failed',
        from: '2026-11-19',
        to: '2026-11-20',
        error: 'PayUnity unreachable after 5 retries',
        exitCode: 1,
      }),
    ).toBe('payrecon all providers 2026-11-19..2026-11-20: failed; PayUnity unreachable after 5 retries');
    expect(
      summaryText({
        status: 'succeeded',
        runId: 1,
        from: '2026-11-20',
        to: '2026-11-20',
        providers: ['payunity'],
        counts: { discrepancies: {} },
      }),
    ).toBe('payrecon run 1 payunity 2026-11-20: succeeded; no discrepancies');
  });

  it('names the gateway records a run rejected', () => {
    const s: RunSummary = {
      status: 'succeeded',
      runId: 3,
      from: '2026-11-20',
      to: '2026-11-20',
      providers: ['payunity'],
      counts: { discrepancies: {}, rejectedRecords: 2 },
    };
    expect(summaryText(s)).toBe(
      "payrecon run 3 payunity 2026-11-20: succeeded; no discrepancies; 2 gateway records rejected (not stored, see the workbook's Rejected lines; refunds they may concern are held)",
    );
    expect(formatRunResult(runResult({ counts: { matched: 1, rejectedRecords: 2 } }))).toContain(
      'rejected lines 0, rejected gateway records 2',
    );
  });

  it('names the first late files of a long rerun, then how many more', () => {
    // A rerun of a past year on a new installation: every business day without a file.
    const lateFiles = Array.from({ length: 25 }, (_, i) => ({
      provider: 'payunity',
      settlementDate: `2025-01-${String(i + 1).padStart(2, '0')}`,
      expectedBy: `2025-01-${String(i + 1).padStart(2, '0')}T11:00:00.000Z`,
      status: 'late',
    }));
    const text = summaryText({
      status: 'succeeded',
      runId: 5,
      from: '2025-01-01',
      to: '2025-12-31',
      providers: ['payunity'],
      counts: { discrepancies: {} },
      lateFiles,
    });
    expect(text).toBe(
      'payrecon run 5 payunity 2025-01-01..2025-12-31: succeeded; no discrepancies; 25 late settlement files (' +
        Array.from({ length: 10 }, (_, i) => `payunity 2025-01-${String(i + 1).padStart(2, '0')}`).join(
          ', ',
        ) +
        ' and 15 more)',
    );
    const lines = formatRunResult(
      runResult({ runId: 5, from: '2025-01-01', to: '2025-12-31', lateFiles }),
    ).split('\n');
    expect(lines.filter((l) => l.startsWith('  late settlement file: '))).toHaveLength(20);
    expect(lines.at(-1)).toBe(
      "  and 5 more settlement dates late or not loaded (listed in the workbook's Summary and in --json)",
    );
  });

  it('names the first files not loaded and the first files holding movements, then how many more', () => {
    const names = Array.from(
      { length: 23 },
      (_, i) => `PAYUNITY_SETTLEMENT_E1_202501${String(i + 1).padStart(2, '0')}.csv`,
    );
    const lines = formatRunResult(
      runResult({
        runId: 6,
        from: '2025-01-01',
        to: '2025-01-31',
        counts: { awaitingSettlement: 23 },
        files: names.map((file) => ({
          provider: 'payunity',
          file,
          what: 'refused',
          reason: 'trailer missing',
        })),
        awaitingHeld: names.map((file, i) => ({
          provider: 'payunity',
          file,
          settlementDate: `2025-01-${String(i + 1).padStart(2, '0')}`,
          reason: 'modified too recently',
          count: 1,
          byCurrency: { EUR: { count: 1, amountMinor: 100 } },
          detail: '',
        })),
      }),
    ).split('\n');
    const notLoaded = lines.filter((l) => l.startsWith('  settlement file not loaded: '));
    const held = lines.filter((l) => l.startsWith('  awaiting settlement past the deadline: '));
    expect(notLoaded).toHaveLength(20);
    expect(notLoaded[19]).toContain(names[19]);
    expect(held).toHaveLength(20);
    expect(lines).toContain(
      '  and 3 more settlement files not loaded or corrected (listed in --json and the workbook)',
    );
    expect(lines).toContain(
      '  and 3 more files not loaded yet holding movements awaiting (listed in --json and the workbook)',
    );
  });

  it('names refunds sent that no settlement file shows past the settlement lag', () => {
    expect(
      summaryText({
        status: 'succeeded',
        runId: 3,
        from: '2026-11-20',
        to: '2026-11-20',
        providers: ['useepay'],
        counts: { discrepancies: {}, overdueRefunds: 2 },
      }),
    ).toBe(
      'payrecon run 3 useepay 2026-11-20: succeeded; no discrepancies; 2 refunds sent but not yet in a settlement file past the settlement lag',
    );
  });

  it('says how many movements past their deadline a file not loaded yet keeps awaiting', () => {
    expect(
      summaryText({
        status: 'succeeded',
        runId: 3,
        from: '2026-11-20',
        to: '2026-11-20',
        providers: ['payunity'],
        counts: { discrepancies: {}, awaitingHeld: 2 },
      }),
    ).toBe(
      'payrecon run 3 payunity 2026-11-20: succeeded; no discrepancies; 2 movements past the settlement deadline still awaiting: a file that may settle them arrived and is not loaded yet',
    );
  });

  it('names the settlement lines the run rejected', () => {
    expect(
      summaryText({
        status: 'succeeded',
        runId: 4,
        from: '2026-11-20',
        to: '2026-11-20',
        providers: ['payunity'],
        counts: { rejectedLines: 3, discrepancies: { amount_mismatch: 1 } },
      }),
    ).toBe(
      'payrecon run 4 payunity 2026-11-20: succeeded; 1 discrepancy (amount_mismatch 1); 3 settlement lines rejected (not loaded; see the Rejected lines sheet)',
    );
  });

  it('names the settlement files the run did not load, and those it corrected', () => {
    expect(
      summaryText({
        status: 'succeeded',
        runId: 2,
        from: '2026-11-20',
        to: '2026-11-20',
        providers: ['payunity'],
        counts: { discrepancies: {} },
        files: [
          { provider: 'payunity', file: 'A.csv', what: 'refused', reason: 'trailer missing' },
          {
            provider: 'payunity',
            file: 'B.csv',
            what: 'corrected',
            reason: 'replaces the version loaded as file 3',
          },
        ],
      }),
    ).toBe(
      'payrecon run 2 payunity 2026-11-20: succeeded; no discrepancies; 1 settlement file not loaded (payunity A.csv: trailer missing); 1 corrected settlement file (payunity B.csv)',
    );
  });

  it('tells a date whose file arrived but was not loaded from a late one', () => {
    expect(
      summaryText({
        status: 'succeeded',
        runId: 4,
        from: '2026-11-19',
        to: '2026-11-20',
        providers: ['payunity'],
        counts: { discrepancies: {} },
        lateFiles: [
          { provider: 'payunity', settlementDate: '2026-11-19', status: 'late' },
          { provider: 'payunity', settlementDate: '2026-11-20', status: 'not_loaded' },
        ],
        files: [{ provider: 'payunity', file: 'A.csv', what: 'refused', reason: 'gone: not loaded' }],
      }),
    ).toBe(
      'payrecon run 4 payunity 2026-11-19..2026-11-20: succeeded; no discrepancies; 1 late settlement file (payunity 2026-11-19); 1 settlement date whose file arrived but is not loaded yet (payunity 2026-11-20); 1 settlement file not loaded (payunity A.csv: gone: not loaded)',
    );
  });
});

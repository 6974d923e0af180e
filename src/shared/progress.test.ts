import { PassThrough, Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createProgress, progressByDay, shouldShowProgress, stageProgress } from './progress.js';

/** A stream that says it is a terminal (or not), collecting what is drawn on it. */
function fakeStream(isTTY: boolean) {
  const s = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number; text: () => string };
  let out = '';
  s.on('data', (d: Buffer) => (out += d.toString()));
  s.isTTY = isTTY;
  s.columns = 120;
  s.text = () => out;
  return s;
}
const asWrite = (s: unknown) => s as NodeJS.WriteStream;

describe('shouldShowProgress', () => {
  it('only on a terminal, never with --json, --quiet or CI', () => {
    expect(shouldShowProgress({ stream: asWrite(fakeStream(true)) })).toBe(true);
    expect(shouldShowProgress({ stream: asWrite(fakeStream(false)) })).toBe(false);
    expect(shouldShowProgress({ stream: asWrite(fakeStream(true)), json: true })).toBe(false);
    expect(shouldShowProgress({ stream: asWrite(fakeStream(true)), quiet: true })).toBe(false);
    expect(shouldShowProgress({ stream: asWrite(fakeStream(true)), env: { CI: 'true' } })).toBe(false);
    expect(shouldShowProgress({ stream: asWrite(fakeStream(true)), env: { CI: 'false' } })).toBe(true);
  });
});

describe('createProgress', () => {
  it('draws a bar on a terminal', () => {
    const tty = fakeStream(true);
    const p = createProgress('pulling', 10, { stream: asWrite(tty) });
    p.tick(4);
    p.update(10);
    p.stop();
    expect(tty.text()).toContain('pulling');
    expect(tty.text()).toContain('10/10');
  });

  it('writes nothing when not a terminal, or with --json', () => {
    const pipe = fakeStream(false);
    const p = createProgress('pulling', 10, { stream: asWrite(pipe) });
    p.tick();
    p.stop();
    const tty = fakeStream(true);
    const q = createProgress('pulling', undefined, { stream: asWrite(tty), json: true });
    q.update(5, 9);
    q.stop();
    expect(pipe.text()).toBe('');
    expect(tty.text()).toBe('');
  });
});

describe('progressByDay', () => {
  it('logs one line per finished day when there is no terminal', () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino(
      {},
      new Writable({ write: (c: Buffer, _e, cb) => (lines.push(JSON.parse(c.toString())), cb()) }),
    );
    const days = ['2026-11-01', '2026-11-02', '2026-11-03'];
    const p = progressByDay('pull', days, { log, stream: asWrite(fakeStream(false)) });
    for (const d of days) p.dayDone(d, { records: 7 });
    p.stop();
    expect(lines.map((l) => [l.day, l.done, l.total, l.records, l.msg])).toEqual([
      ['2026-11-01', 1, 3, 7, 'day finished'],
      ['2026-11-02', 2, 3, 7, 'day finished'],
      ['2026-11-03', 3, 3, 7, 'day finished'],
    ]);
  });

  it('draws a bar over the days on a terminal instead of logging', () => {
    const lines: unknown[] = [];
    const log = pino({}, new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }));
    const tty = fakeStream(true);
    const p = progressByDay('pull', ['2026-11-01', '2026-11-02'], { log, stream: asWrite(tty) });
    p.dayDone('2026-11-01');
    p.dayDone('2026-11-02');
    p.stop();
    expect(lines).toEqual([]);
    expect(tty.text()).toContain('2/2');
  });
});

describe('stageProgress', () => {
  it('counts finished stages and names the current one on a terminal; silent otherwise', () => {
    const tty = fakeStream(true);
    const p = stageProgress(3, { stream: asWrite(tty) });
    p.onStage('fetch', 'payunity', 'start');
    p.onStage('fetch', 'payunity', 'end');
    p.onStage('match', null, 'start');
    p.onStage('match', null, 'end');
    p.stop();
    expect(tty.text()).toContain('2/3 stages');
    expect(tty.text()).toContain('match done');
    const pipe = fakeStream(false);
    const q = stageProgress(3, { stream: asWrite(pipe) });
    q.onStage('fetch', 'payunity', 'start');
    q.stop();
    expect(pipe.text()).toBe('');
  });
});

import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress, shouldShowProgress, stageProgress } from './progress.js';

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

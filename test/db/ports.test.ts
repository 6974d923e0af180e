// The port an embedded server is told to listen on: outside the ephemeral range, and free.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { portFree, serverPort } from '../../src/shared/free-port.js';

const ephemeralStart = Number(
  readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
);

describe('serverPort', () => {
  it('draws from below the ephemeral range, where no outbound connection holds a port', async () => {
    expect(ephemeralStart).toBeGreaterThan(20000);
    for (const r of [0, 0.5, 0.999999]) {
      // r first, then anywhere in the range should that port be held.
      const draws = [r];
      const port = await serverPort(() => draws.shift() ?? Math.random());
      expect(port).toBeGreaterThanOrEqual(20000);
      expect(port).toBeLessThan(ephemeralStart);
    }
  });

  it('skips a port something listens on', async () => {
    const span = ephemeralStart - 20000;
    const drawOf = (port: number) => (port - 20000 + 0.5) / span;
    // Hold a port of the range, then make the first draw land on it.
    const held = await serverPort();
    const holder = net.createServer();
    await new Promise<void>((resolve, reject) => {
      holder.once('error', reject);
      holder.listen(held, '127.0.0.1', resolve);
    });
    try {
      expect(await portFree(held)).toBe(false);
      const next = held === 20000 ? 20001 : 20000;
      const draws = [drawOf(held), drawOf(next)];
      const port = await serverPort(() => draws.shift() ?? Math.random());
      expect(port).not.toBe(held);
      expect(await portFree(port)).toBe(true);
      // The second draw, unless something else holds that port too.
      expect(port === next || !(await portFree(next))).toBe(true);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});

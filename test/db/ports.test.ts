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
      const port = await serverPort(() => r);
      expect(port).toBeGreaterThanOrEqual(20000);
      expect(port).toBeLessThan(ephemeralStart);
    }
  });

  it('skips a port something listens on', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const takenPort = (taken.address() as net.AddressInfo).port;
      expect(await portFree(takenPort)).toBe(false);
      // A listener below the ephemeral range: the first draw lands on it, the next one does not.
      const low = net.createServer();
      const lowPort = await new Promise<number>((resolve, reject) => {
        low.once('error', reject);
        low.listen(20000, '127.0.0.1', () => resolve(20000));
      });
      try {
        const draws = [0, 0.5];
        const port = await serverPort(() => draws.shift() ?? 0.25);
        expect(port).not.toBe(lowPort);
        expect(port).toBe(20000 + Math.floor(0.5 * (ephemeralStart - 20000)));
        expect(await portFree(port)).toBe(true);
      } finally {
        await new Promise((resolve) => low.close(resolve));
      }
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});

// `payrecon demo` reads no configuration file: what it tells a newcomer to change must be one of its own options.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../src/jobs/demo.js';
import { serverPort } from '../../src/shared/free-port.js';
import { silentLogger } from '../../src/shared/log.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'payrecon-demo-'));
chmodSync(dir, 0o755); // as root, the embedded server's own user must reach its data directory
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('payrecon demo', () => {
  it('on a port something else holds, names its --port option, not the configuration', async () => {
    const port = await serverPort();
    const holder = net.createServer();
    await new Promise<void>((resolve, reject) => {
      holder.once('error', reject);
      holder.listen(port, '127.0.0.1', resolve);
    });
    try {
      const demo = runDemo({
        dir: path.join(dir, 'demo'),
        reportsDir: path.join(dir, 'reports'),
        seed: 42,
        days: 1,
        paymentsPerDay: 1,
        port,
        log: silentLogger(),
        signal: new AbortController().signal,
        now: () => new Date(),
      });
      const error = await demo.then(
        () => expect.fail('the demo ran on a port that was taken'),
        (e: unknown) => e as Error,
      );
      expect(error.message).toBe(
        `port ${port} for the embedded PostgreSQL is taken by another process; choose a free one with --port`,
      );
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});

import { readFileSync } from 'node:fs';
import net from 'node:net';

/** A TCP port on loopback that is free right now (the OS picks it), for servers started by tests and benchmarks. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * A random TCP port on loopback for a server that is told its port before it starts (the embedded PostgreSQL of
 * the tests and benchmarks): below the system's ephemeral range, where no outbound connection of this machine can
 * be holding it, and free right now. A port drawn from 20000-39999 overlapped Linux's ephemeral range (32768 up),
 * and a benchmark in CI found its port 39204 held by one of the many connections the test suite had just made.
 */
export async function serverPort(random: () => number = Math.random): Promise<number> {
  const low = 20000;
  const high = Math.max(low + 1000, ephemeralStart());
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = low + Math.floor(random() * (high - low));
    if (await portFree(port)) return port;
  }
  return freePort();
}

/** The first port of the system's ephemeral range (Linux), or the IANA range's start elsewhere. */
function ephemeralStart(): number {
  try {
    const [first] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const n = Number(first);
    if (Number.isInteger(n) && n > 1024) return n;
  } catch {
    // not Linux
  }
  return 49152;
}

/** Whether a server could listen on `port` of loopback right now. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

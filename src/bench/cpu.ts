// CPU time of a run's three parties, read from /proc (Linux): this process, the sandbox process, and the database
// server (the postmaster and every process it started; backends that have exited are in the postmaster's
// children time). Wall time on a shared 2-core machine moves with its neighbours; CPU time per stage tells which
// party a change made cheaper, and by how much.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface CpuSnapshot {
  /** Milliseconds of CPU (user + system) so far. */
  run: number;
  sandbox: number;
  /** Null when the server's processes cannot be read (not on this machine, or no /proc). */
  database: number | null;
}

export type CpuUse = CpuSnapshot;

function ticksPerSecond(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

/** Fields of /proc/PID/stat after the command name: [state, ppid, …, utime (11), stime, cutime, cstime]. */
function statFields(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

export class CpuMeter {
  private readonly msPerTick = 1000 / ticksPerSecond();

  constructor(
    private readonly sandboxPid: number | undefined,
    /** Any server process (a backend): the postmaster is found as its parent. */
    private readonly postmasterPid: number | null,
  ) {}

  /**
   * The postmaster of a backend, when its process can be read here: a server on another machine reports a pid
   * that means nothing here, so the process must be a postgres one.
   */
  static postmasterOf(backendPid: number): number | null {
    let comm: string;
    try {
      comm = readFileSync(`/proc/${backendPid}/comm`, 'utf8').trim();
    } catch {
      return null;
    }
    if (comm !== 'postgres') return null;
    const f = statFields(backendPid);
    const ppid = f ? Number(f[1]) : NaN;
    return Number.isInteger(ppid) && ppid > 1 ? ppid : null;
  }

  snapshot(): CpuSnapshot {
    const own = process.cpuUsage();
    return {
      run: (own.user + own.system) / 1000,
      sandbox: this.sandboxPid === undefined ? 0 : this.ticks(this.sandboxPid, false),
      database: this.databaseMs(),
    };
  }

  private ticks(pid: number, withChildren: boolean): number {
    const f = statFields(pid);
    if (!f) return 0;
    const n = (i: number) => Number(f[i]) || 0;
    return (n(11) + n(12) + (withChildren ? n(13) + n(14) : 0)) * this.msPerTick;
  }

  private databaseMs(): number | null {
    const pm = this.postmasterPid;
    if (pm === null || !statFields(pm)) return null;
    let ms = this.ticks(pm, true);
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry);
      if (!Number.isInteger(pid) || pid === pm) continue;
      const f = statFields(pid);
      if (f && Number(f[1]) === pm) ms += this.ticks(pid, false);
    }
    return ms;
  }
}

/** CPU used between two snapshots. */
export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot): CpuUse {
  return {
    run: b.run - a.run,
    sandbox: b.sandbox - a.sandbox,
    database: a.database === null || b.database === null ? null : b.database - a.database,
  };
}

/**
 * Follows a run's stage events (providers' stages overlap) and keeps, per stage name, the CPU used from its first
 * start to its last end.
 */
export class StageCpu {
  private readonly active = new Map<string, number>();
  private readonly first = new Map<string, CpuSnapshot>();
  private readonly last = new Map<string, CpuSnapshot>();

  constructor(private readonly meter: CpuMeter) {}

  event(stage: string, state: 'start' | 'end'): void {
    const n = this.active.get(stage) ?? 0;
    if (state === 'start') {
      if (!this.first.has(stage)) this.first.set(stage, this.meter.snapshot());
      this.active.set(stage, n + 1);
    } else {
      this.active.set(stage, n - 1);
      if (n - 1 === 0) this.last.set(stage, this.meter.snapshot());
    }
  }

  used(stage: string): CpuUse | null {
    const a = this.first.get(stage);
    const b = this.last.get(stage);
    return a && b ? cpuBetween(a, b) : null;
  }
}

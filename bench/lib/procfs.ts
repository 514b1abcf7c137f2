import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Linux USER_HZ; 100 on every mainstream x86_64/arm64 kernel. */
const TICKS_PER_S = 100;

/** Peak resident set (VmHWM) of a live process, in MiB. */
export function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function procStat(pid: string | number): { comm: string; cpu: number } | undefined {
  try {
    // comm (field 2) may contain spaces; the fields after the closing parenthesis are fixed.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), cpu: (Number(f[11]) + Number(f[12])) / TICKS_PER_S };
  } catch {
    return undefined; // the process went away
  }
}

export interface CpuSample {
  at: number;
  /** Machine-wide busy CPU seconds (all cores) from /proc/stat. */
  busy: number;
  /** user+system CPU seconds so far, per process. */
  byPid: Map<number, number>;
}

/** Every process's CPU so far. Differences are taken per pid because processes come and go
 * (other test suites' PostgreSQL backends): summing by name would subtract the CPU of those that exit. */
export function sampleCpu(): CpuSample {
  const byPid = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const s = procStat(d);
    if (s) byPid.set(Number(d), s.cpu);
  }
  const v = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { at: performance.now(), busy: (total - v[3] - v[4]) / TICKS_PER_S, byPid };
}

/** Cores busy (1.0 = one core fully used) between two samples for a group of pids; a pid born in between counts whole. */
export function coresOf(a: CpuSample, b: CpuSample, pids: Iterable<number>): number {
  let sum = 0;
  for (const pid of new Set(pids)) {
    const end = b.byPid.get(pid);
    if (end !== undefined) sum += end - (a.byPid.get(pid) ?? 0);
  }
  return sum / ((b.at - a.at) / 1000);
}

export const machineCores = (a: CpuSample, b: CpuSample) => (b.busy - a.busy) / ((b.at - a.at) / 1000);

export function pidsByComm(name: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d) && procStat(d)?.comm === name)
    .map(Number);
}

/** PostgreSQL's own processes (checkpointer, WAL writer, ...): they work for whoever writes. */
export function postgresAuxPids(): number[] {
  return pidsByComm('postgres').filter((pid) => {
    try {
      return !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('(');
    } catch {
      return false;
    }
  });
}

/**
 * Local TCP ports of the connections that processes `pids` hold to `remotePort`, found through
 * their socket inodes in /proc/net/tcp{,6}. With pg_stat_activity.client_port this names exactly
 * the PostgreSQL backends serving them, without counting other suites' backends.
 */
export function localPortsTo(pids: number[], remotePort: number): number[] {
  const inodes = new Set<string>();
  for (const pid of pids) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const m = /^socket:\[(\d+)\]$/.exec(safeReadlink(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]);
      }
    } catch {
      /* process went away */
    }
  }
  const ports: number[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || !inodes.has(f[9])) continue;
      if (parseInt(f[2].split(':')[1], 16) === remotePort) ports.push(parseInt(f[1].split(':')[1], 16));
    }
  }
  return ports;
}

function safeReadlink(p: string): string {
  try {
    return readlinkSync(p);
  } catch {
    return '';
  }
}

import { readdirSync, readFileSync } from 'node:fs';

/** Linux USER_HZ; 100 on every mainstream x86_64/arm64 kernel. */
const TICKS_PER_S = 100;

/** Peak resident set (VmHWM) of a live process, in MiB. */
export function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** user+system CPU seconds a process has used so far. */
export function cpuSeconds(pid: number): number {
  try {
    // comm (field 2) may contain spaces; fields after the closing parenthesis are fixed.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICKS_PER_S;
  } catch {
    return NaN;
  }
}

/**
 * CPU seconds used so far by every process whose comm is one of `names` (postgres, redis-server).
 * Processes that exited between two samples drop out, so short-lived backends are undercounted a little.
 */
export function cpuSecondsByComm(names: string[]): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const name = names.find((n) => comm === n || comm.startsWith(n));
      if (!name) continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out[name] += (Number(f[11]) + Number(f[12])) / TICKS_PER_S;
    } catch {
      /* process went away */
    }
  }
  return out;
}

/** Machine-wide busy and total CPU seconds (all cores) from /proc/stat. */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = v[3] + (v[4] ?? 0);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / TICKS_PER_S, total: total / TICKS_PER_S };
}

export interface CpuSample {
  at: number;
  machine: { busy: number; total: number };
  pids: Record<string, number>;
  comms: Record<string, number>;
}

export function sampleCpu(pids: Record<string, number>): CpuSample {
  return {
    at: performance.now(),
    machine: machineCpu(),
    pids: Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)])),
    comms: cpuSecondsByComm(['postgres', 'redis-server']),
  };
}

/** CPU use between two samples as "cores busy" (1.0 = one core fully used). */
export function cpuBetween(a: CpuSample, b: CpuSample): Record<string, number> {
  const wall = (b.at - a.at) / 1000;
  const out: Record<string, number> = {};
  for (const k of Object.keys(a.pids)) out[k] = (b.pids[k] - a.pids[k]) / wall;
  for (const k of Object.keys(a.comms)) out[k] = Math.max(0, b.comms[k] - a.comms[k]) / wall;
  out.machine = (b.machine.busy - a.machine.busy) / wall;
  return out;
}

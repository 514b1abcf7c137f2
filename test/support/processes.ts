import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** A loopback port nobody listens on right now (for a hub, a redis-server or a downstream the test starts). */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Signals a child process and resolves when it has exited (at once when it already has). */
export function stop(p?: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!p || p.exitCode !== null || p.signalCode) return resolve();
    p.once('exit', () => resolve());
    p.kill(signal);
  });
}

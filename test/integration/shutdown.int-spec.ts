import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { newWorld, type TestWorld } from '../support/hub-harness.js';

/**
 * A hub started in a process and closed again leaves nothing that keeps the process alive: the process
 * ends on its own soon after close() (no exit call). BullMQ's stalled-job checker used to wait one more
 * stalledInterval (15–30 s) after a close that landed during a check, which is exactly when a hub is
 * closed right after starting (src/queues/worker-shutdown.ts).
 */
describe('closing a hub', () => {
  let world: TestWorld;
  beforeAll(() => {
    world = newWorld();
  });
  afterAll(() => world?.drop());

  it('lets the process end within seconds of close(), with every role running', async () => {
    expect(existsSync('dist/src/hub.js')).toBe(true); // built by `npm test` (npm run build)
    const script = `
      const { loadConfig } = await import('./dist/src/config/hub-config.js');
      const { startHub } = await import('./dist/src/hub.js');
      const { createLogger } = await import('./dist/src/observability/hub-logger.js');
      const hub = await startHub(loadConfig({ ...process.env, PORT: '0' }), createLogger('silent'));
      await hub.close();
      console.log('closed ' + Date.now());`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { PATH: process.env.PATH ?? '', ...world.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('exit', (c) => {
        clearTimeout(kill);
        resolve(c);
      });
    });
    const ended = Date.now();
    const closed = Number(/closed (\d+)/.exec(out)?.[1]);
    expect({ code, closed: Number.isFinite(closed) }).toEqual({ code: 0, closed: true });
    expect(ended - closed).toBeLessThan(10_000);
  }, 90_000);
});

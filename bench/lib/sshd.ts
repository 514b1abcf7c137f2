import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { userInfo } from 'node:os';
import path from 'node:path';

const SSHD = process.env.TEST_SSHD ?? '/usr/sbin/sshd';

/**
 * A real OpenSSH sshd on a loopback port for SFTP tests: fresh host and user keys (ssh-keygen), the
 * current user (tests run as root in CI) chrooted to a temp directory with ForceCommand internal-sftp.
 * The chroot directory is root-owned as sshd requires; the folders inside are where files go.
 *
 * `user`: log in as this (unprivileged) account instead, e.g. "nobody", owning the folders: a test
 * running as root can then take permissions away for real (chmod), which root itself ignores.
 */
export interface TestSshd {
  port: number;
  username: string;
  /** Local path of the chroot: `root + '/inbox'` is `/inbox` for the SFTP client. */
  root: string;
  hostKeySha256: string;
  userPrivateKey: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Kills every open session (the per-connection sshd processes): connections drop mid-transfer. */
  killSessions(): number;
  dispose(): Promise<void>;
  log(): string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ port, host: '127.0.0.1' });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** Pids of the processes descending from `pid` (read from /proc; no process is matched by name). */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      // Fields after the command name, which is in parentheses and may hold spaces: state, ppid, ...
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* exited meanwhile */
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [c, pp] of parent) if (pp === p) (out.push(c), walk(c));
  };
  walk(pid);
  return out;
}

export async function startSshd(folders = ['inbox', 'archive', 'error', 'outbox'], opts: { user?: string } = {}): Promise<TestSshd> {
  // Every directory above a ChrootDirectory must be root-owned and not writable by others, which
  // rules out /tmp (1777): the temp dirs go under a root-owned base instead.
  const base = process.env.TEST_SSHD_DIR ?? '/var/lib/hub-test-sshd';
  mkdirSync(base, { recursive: true, mode: 0o755 });
  chmodSync(base, 0o755);
  const dir = mkdtempSync(path.join(base, 'sshd-'));
  chmodSync(dir, 0o755);
  const root = path.join(dir, 'chroot');
  mkdirSync(root, { mode: 0o755 });
  const owner = opts.user ? { uid: Number(execFileSync('id', ['-u', opts.user]).toString()), gid: Number(execFileSync('id', ['-g', opts.user]).toString()) } : undefined;
  for (const f of folders) {
    mkdirSync(path.join(root, f), { mode: 0o755, recursive: true });
    // Each level below the (root-owned) chroot belongs to the login user, so it can write there.
    if (owner) for (let p = path.join(root, f); p !== root; p = path.dirname(p)) chownSync(p, owner.uid, owner.gid);
  }
  mkdirSync('/run/sshd', { recursive: true });
  const keygen = (file: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'hub-test', '-f', file]);
  keygen(path.join(dir, 'host_key'));
  keygen(path.join(dir, 'user_key'));
  writeFileSync(path.join(dir, 'authorized_keys'), readFileSync(path.join(dir, 'user_key.pub')));
  // sshd reads the file as the login user: an unprivileged one must be able to.
  chmodSync(path.join(dir, 'authorized_keys'), opts.user ? 0o644 : 0o600);
  const hostKeySha256 = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', path.join(dir, 'host_key.pub')]).toString().split(' ')[1];
  const port = await freePort();
  const username = opts.user ?? userInfo().username;
  const config = path.join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${path.join(dir, 'host_key')}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin yes',
      'UsePAM no',
      'StrictModes no',
      'MaxStartups 50',
      'Subsystem sftp internal-sftp',
      `Match User ${username}`,
      `  ChrootDirectory ${root}`,
      '  ForceCommand internal-sftp',
      '  AllowTcpForwarding no',
      '',
    ].join('\n'),
  );
  execFileSync(SSHD, ['-t', '-f', config]);
  let child: ChildProcess | undefined;
  let out = '';
  const sshd: TestSshd = {
    port,
    username,
    root,
    hostKeySha256,
    userPrivateKey: readFileSync(path.join(dir, 'user_key'), 'utf8'),
    log: () => out,
    killSessions() {
      const pids = child?.pid ? descendants(child.pid) : [];
      for (const p of pids) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      return pids.length;
    },
    async start() {
      child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr!.on('data', (d) => (out = (out + d).slice(-20_000)));
      const until = Date.now() + 10_000;
      while (!(await accepting(port))) {
        if (Date.now() > until || child.exitCode !== null) throw new Error(`sshd did not start: ${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await exited;
      // Sessions already open keep their own sshd child; a stopped server must refuse new ones only.
    },
    async dispose() {
      await sshd.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await sshd.start();
  return sshd;
}

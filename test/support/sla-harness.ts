import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { REDIS_URL, waitFor, type TestWorld } from './hub-harness.js';

/** The newest shipped version of the default policy (the one the hub routes with). */
export function newestDefaultVersion(): string {
  const v = (s: string) => s.split('.').map(Number);
  return readdirSync(path.resolve('policies', 'default'))
    .filter((d) => /^\d+\.\d+\.\d+$/.test(d))
    .sort((a, b) => v(a).reduce((acc, x, i) => acc || x - v(b)[i], 0))
    .at(-1)!;
}

/** A copy of policies/ whose newest default policy is changed by `edit` (tests need seconds-long SLAs or a local URL). */
export function policiesWith(edit: (p: any) => void): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'hub-policies-'));
  cpSync(path.resolve('policies'), dir, { recursive: true });
  const file = path.join(dir, 'default', newestDefaultVersion(), 'policy.json');
  const p = JSON.parse(readFileSync(file, 'utf8'));
  edit(p);
  writeFileSync(file, JSON.stringify(p));
  return dir;
}

/** Rings every waiting SLA alarm now (the worker re-delays those whose business time is not yet reached). */
export async function ringAlarms(world: TestWorld): Promise<number> {
  const u = new URL(REDIS_URL);
  const q = new Queue('sla-timers', { connection: { host: u.hostname, port: Number(u.port || 6379) }, prefix: world.prefix });
  try {
    const jobs = await q.getDelayed();
    for (const j of jobs) await j.promote().catch(() => undefined);
    return jobs.length;
  } finally {
    await q.close();
  }
}

export async function auditActions(world: TestWorld, caseId: string): Promise<{ action: string; after: any }[]> {
  const { rows } = await world.db.query(`SELECT action, after FROM audit_events WHERE entity_type = 'case' AND entity_id = $1 ORDER BY id`, [caseId]);
  return rows;
}

/** Waits until the case's audit trail holds `n` entries of `action` (matching `where`). */
export function waitForAudit(world: TestWorld, caseId: string, action: string, n = 1, where: (after: any) => boolean = () => true, timeoutMs = 15000) {
  return waitFor(async () => {
    const rows = (await auditActions(world, caseId)).filter((r) => r.action === action && where(r.after));
    return rows.length >= n ? rows : undefined;
  }, timeoutMs, `${n} × ${action} on case ${caseId}`);
}

export async function openCaseId(world: TestWorld, timeoutMs = 15000): Promise<string> {
  return waitFor(async () => {
    const { rows } = await world.db.query(`SELECT id FROM cases ORDER BY id DESC LIMIT 1`);
    if (!rows[0]) return undefined;
    const { rows: clocks } = await world.db.query(`SELECT count(*)::int AS n FROM sla_clocks WHERE case_id = $1`, [rows[0].id]);
    return clocks[0].n > 0 ? (rows[0].id as string) : undefined;
  }, timeoutMs, 'a case with SLA clocks');
}

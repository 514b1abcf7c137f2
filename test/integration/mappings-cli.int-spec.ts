import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** `npm run mappings:test` (the built dist/scripts/mappings-test.js): passes on the shipped mappings, fails with a readable diff on a mismatch. */
describe('mappings:test', () => {
  const run = (dir?: string) =>
    spawnSync(process.execPath, ['dist/scripts/mappings-test.js'], { env: { PATH: process.env.PATH ?? '', ...(dir ? { HUB_MAPPINGS_DIR: dir } : {}) }, encoding: 'utf8' });

  it('passes every fixture of every shipped mapping', () => {
    const r = run();
    expect(r.stdout).toMatch(/\d+ fixture\(s\) passed, 0 failed/);
    expect(r.stdout).toContain('✓ wms-webhook@1.0.0 ok/pick-shortfall.json');
    expect(r.status).toBe(0);
  });

  it('exits 1 and names the differing path when an output no longer matches, or a rejection reason changed', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hub-mappings-'));
    cpSync('mappings/wms-webhook/1.0.0', path.join(dir, 'wms-webhook/1.0.0'), { recursive: true });
    const expected = path.join(dir, 'wms-webhook/1.0.0/fixtures/ok/pick-shortfall.expected.json');
    const out = JSON.parse(readFileSync(expected, 'utf8'));
    out[0].references.order = 'SO-SOMETHING-ELSE';
    writeFileSync(expected, JSON.stringify(out));
    writeFileSync(path.join(dir, 'wms-webhook/1.0.0/fixtures/not-ok/unknown-type.reason.txt'), 'a reason the mapping does not give');
    const r = run(dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('✗ wms-webhook@1.0.0 ok/pick-shortfall.json');
    expect(r.stdout).toMatch(/\[0\]\.references\.order: expected "SO-SOMETHING-ELSE", got "SO-\d+"/);
    expect(r.stdout).toContain('✗ wms-webhook@1.0.0 not-ok/unknown-type.json');
    expect(r.stdout).toContain('expected the problem "a reason the mapping does not give"; found "no rule in wms-webhook@1.0.0');
    expect(r.stdout).toMatch(/4 fixture\(s\) passed, 2 failed/);
  });
});

import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { completeDraft } from '../../src/canonical/exception-draft.js';
import { loadMapping, MappingFailure, runMapping } from '../../src/mapping/mapping-registry.service.js';

/** Golden fixtures of every shipped mapping version: ok/ inputs must give their expected output; not-ok/ must fail with the stated reason. */
const ROOT = 'mappings';
const versions = readdirSync(ROOT).flatMap((id) => readdirSync(path.join(ROOT, id)).map((v) => path.join(ROOT, id, v)));

describe.each(versions)('mapping %s', (dir) => {
  const fixtures = (kind: string) =>
    existsSync(path.join(dir, 'fixtures', kind))
      ? readdirSync(path.join(dir, 'fixtures', kind)).filter((f) => f.endsWith('.json') && !f.endsWith('.expected.json'))
      : [];
  const ctx = (m: Awaited<ReturnType<typeof loadMapping>>, type: string) => ({
    system: 'fixture', connectorId: 'fixture', connectorType: m.manifest.source.connectorType, messageId: '01a21cd0-0000-7000-8000-000000000001',
    documentType: type, testMode: false, receivedAt: new Date('2026-11-27T00:00:00Z'), mapping: { id: m.manifest.id, version: m.manifest.version },
  });

  it('has fixtures', () => expect(fixtures('ok').length).toBeGreaterThan(0));

  it.each(fixtures('ok'))('ok/%s', async (file) => {
    const m = await loadMapping(dir);
    const input = JSON.parse(readFileSync(path.join(dir, 'fixtures/ok', file), 'utf8'));
    const expected = JSON.parse(readFileSync(path.join(dir, 'fixtures/ok', file.replace(/\.json$/, '.expected.json')), 'utf8'));
    const out = await runMapping(m, input, { type: input.type });
    expect(out).toEqual(expected);
    for (const draft of out) {
      const r = completeDraft(draft, ctx(m, input.type));
      expect(r.ok ? [] : r.problems).toEqual([]);
    }
  });

  it.each(fixtures('not-ok'))('not-ok/%s', async (file) => {
    const m = await loadMapping(dir);
    const input = JSON.parse(readFileSync(path.join(dir, 'fixtures/not-ok', file), 'utf8'));
    const reason = readFileSync(path.join(dir, 'fixtures/not-ok', file.replace(/\.json$/, '.reason.txt')), 'utf8').trim();
    const problems: string[] = [];
    try {
      for (const draft of await runMapping(m, input, { type: input.type })) {
        const r = completeDraft(draft, ctx(m, input.type));
        if (!r.ok) problems.push(...r.problems.map((p) => `${p.path}: ${p.message}`));
      }
    } catch (e) {
      if (!(e instanceof MappingFailure)) throw e;
      problems.push(e.message);
    }
    expect(problems).toContain(reason);
  });
});

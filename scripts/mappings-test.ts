// npm run mappings:test: runs every fixture of every mapping version under HUB_MAPPINGS_DIR (default mappings/).
// Exits 1 on any mismatch, a version without ok fixtures, or a mapping that does not load; prints what differs.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { checkFixtures, readFixtures } from '../src/mapping/fixture-check.js';
import { loadMapping } from '../src/mapping/mapping-registry.service.js';

const root = process.env.HUB_MAPPINGS_DIR ?? 'mappings';
const dirs = (p: string) => readdirSync(p).filter((f) => statSync(path.join(p, f)).isDirectory()).sort();

let failures = 0;
let passed = 0;
for (const id of dirs(root)) {
  for (const version of dirs(path.join(root, id))) {
    const dir = path.join(root, id, version);
    try {
      const mapping = await loadMapping(dir);
      const fixtures = await readFixtures(dir);
      if (!fixtures.ok.length) {
        failures++;
        console.log(`✗ ${id}@${version}: no fixtures/ok; every mapping version needs at least one`);
        continue;
      }
      for (const r of await checkFixtures(mapping, fixtures)) {
        if (r.pass) {
          passed++;
          console.log(`✓ ${id}@${version} ${r.kind}/${r.name}`);
        } else {
          failures++;
          console.log(`✗ ${id}@${version} ${r.kind}/${r.name}`);
          for (const d of r.differences) console.log(`    ${d}`);
        }
      }
    } catch (e) {
      failures++;
      console.log(`✗ ${id}@${version}: ${(e as Error).message}`);
    }
  }
}
console.log(`\n${passed} fixture(s) passed, ${failures} failed`);
process.exit(failures ? 1 : 0);

import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readFixtures } from '../../src/mapping/fixture-check.js';

/** The shipped wms-webhook mapping as a POST /v1/mappings/{id}/versions body, optionally changed. */
export async function wmsMappingBody(version: string, change: (transform: string) => string = (t) => t, withFixtures = false) {
  const dir = path.resolve('mappings/wms-webhook/1.0.0');
  const manifest = { ...JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')), version };
  const transform = change(readFileSync(path.join(dir, 'transform.jsonata'), 'utf8'));
  const lookups = { units: JSON.parse(readFileSync(path.join(dir, 'lookups/units.json'), 'utf8')) };
  return { manifest, transform, lookups, ...(withFixtures ? { fixtures: await readFixtures(dir) } : {}) };
}

/** 1.1.0 as the tests use it: every pick shortfall is "standard" (no longer critical, whatever the customer) and damaged goods raise nothing. */
export const downgradeShortfalls = (t: string) =>
  t
    .replace('"customerTier": order.customerTier,', '"customerTier": "standard", "severity": "standard",')
    .replace('type = "goods.damaged" ? $merge(', 'type = "goods.damaged" ? null : type = "goods.damaged.legacy" ? $merge(');

export const TABLES = ['inbound_messages', 'exceptions', 'cases', 'audit_events', 'outbox_events', 'business_documents', 'artifact_versions', 'artifact_activations', 'connector_counters', 'connector_claims'];

/**
 * Copies of mappings/ and policies/ holding only the first shipped version (1.0.0) of each: the
 * registry tests publish, activate and roll back their own later versions on top of that, whatever
 * later versions the repository ships.
 */
export function baselineDirs(): { HUB_MAPPINGS_DIR: string; HUB_POLICIES_DIR: string } {
  const root = mkdtempSync(path.join(tmpdir(), 'hub-baseline-'));
  for (const kind of ['mappings', 'policies']) {
    for (const id of readdirSync(kind)) {
      const first = path.join(kind, id, '1.0.0');
      if (!existsSync(first)) continue;
      // Overlays are left out: they extend what later enterprise versions mark overridable.
      const policyFile = path.join(first, 'policy.json');
      if (kind === 'policies' && existsSync(policyFile) && 'extends' in JSON.parse(readFileSync(policyFile, 'utf8'))) continue;
      cpSync(first, path.join(root, kind, id, '1.0.0'), { recursive: true });
    }
  }
  return { HUB_MAPPINGS_DIR: path.join(root, 'mappings'), HUB_POLICIES_DIR: path.join(root, 'policies') };
}

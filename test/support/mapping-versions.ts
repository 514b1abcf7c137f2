import { readFileSync } from 'node:fs';
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

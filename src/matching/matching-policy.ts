import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../config/hub-config.js';

const nonNeg = z.number().finite().nonnegative();
/** `null` switches a window off for a partner; absent means "inherit the default". */
const hours = nonNeg.nullable();

const Tolerances = z.strictObject({
  /** A quantity difference passes when it is within the absolute OR the percent allowance (the larger one). */
  quantity: z.strictObject({ absolute: nonNeg.default(0), percent: nonNeg.default(0) }),
  /** Invoice unit price vs PO unit price, percent of the PO price. */
  unitPricePercent: nonNeg,
  /** Invoice total vs expected total (PO price × shipped or ordered quantity), absolute amount. */
  totalAmount: nonNeg,
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD'),
  /** An 850 with no 855 this many hours after it was stored raises PROCUREMENT.PO_ACK_MISSING. */
  ackWindowHours: hours,
  /** No 856 this many hours before the PO's requested delivery date raises PROCUREMENT.ASN_MISSING. */
  asnLeadHours: hours,
});
export type Tolerances = z.infer<typeof Tolerances>;

export const MatchingPolicySchema = z.strictObject({
  version: z.string().regex(/^\d+\.\d+\.\d+$/, 'must be a semantic version such as 1.0.0'),
  description: z.string().max(1000).optional(),
  defaults: Tolerances,
  partners: z.record(z.string().min(1).max(128), Tolerances.partial()).default({}),
});
export type MatchingPolicy = z.infer<typeof MatchingPolicySchema>;

/** The partner's tolerances: its own entry over the defaults. */
export function tolerancesFor(policy: MatchingPolicy, partner: string): Tolerances {
  const own = policy.partners[partner];
  if (!own) return policy.defaults;
  return { ...policy.defaults, ...own, quantity: { ...policy.defaults.quantity, ...(own.quantity ?? {}) } };
}

export function parseMatchingPolicy(raw: unknown, where: string): MatchingPolicy {
  const r = MatchingPolicySchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ConfigError(`${where}: ${i.path.join('.') || '(root)'}: ${i.message}; fix the matching policy file`);
  }
  return r.data;
}

/**
 * Reads the newest <HUB_POLICIES_DIR>/matching/<version>/matching.json (versioned folders like the routing
 * policy's, so the routing loader skips it); without one, matching runs with zero tolerances and a 48 h ack window.
 */
export async function loadMatchingPolicy(policiesDir: string): Promise<MatchingPolicy> {
  const root = path.join(policiesDir, 'matching');
  let versions: string[];
  try {
    versions = (await readdir(root)).filter((v) => /^\d+\.\d+\.\d+$/.test(v));
  } catch {
    return DEFAULT_MATCHING_POLICY;
  }
  const newest = versions.sort((a, b) => semverOrder(b, a))[0];
  if (!newest) return DEFAULT_MATCHING_POLICY;
  const file = path.join(root, newest, 'matching.json');
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`${file}: cannot be read as JSON (${(e as Error).message}); fix the matching policy file`);
  }
  const policy = parseMatchingPolicy(json, file);
  if (policy.version !== newest) throw new ConfigError(`${file}: version must match the folder (${newest})`);
  return policy;
}

function semverOrder(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
}

export const DEFAULT_MATCHING_POLICY: MatchingPolicy = {
  version: '0.0.0',
  defaults: { quantity: { absolute: 0, percent: 0 }, unitPricePercent: 0, totalAmount: 0, currency: 'USD', ackWindowHours: 48, asnLeadHours: 0 },
  partners: {},
};

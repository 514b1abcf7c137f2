import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { CATEGORIES, EXCEPTION_CODES, SEVERITIES } from '../canonical/taxonomy.js';
import { ConfigError } from '../config/hub-config.js';
import { compareSemver } from '../mapping/mapping-registry.service.js';
import { ActionSpecSchema, CalendarSchema, checkRuleOutputs, SlaDefinitionSchema, TaskSpecSchema } from './rule-outputs.js';

const list = <T extends z.ZodType>(t: T) => z.array(t).min(1).optional();
const policyId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/);
const semver = z.string().regex(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);

/** Conditions over the exception and its enrichment. Every listed condition must hold (AND); a list means "any of". */
export const RuleConditionSchema = z.strictObject({
  code: list(z.enum(EXCEPTION_CODES)),
  category: list(z.enum(CATEGORIES)),
  severity: list(z.enum(SEVERITIES)),
  customerTier: list(z.string()),
  site: list(z.string()),
  businessUnit: list(z.string()),
  connectorId: list(z.string()),
  /** references.supplier */
  supplier: list(z.string()),
  inventoryCriticality: list(z.string()),
  /** Holds when the exception carries at least one of these compliance flags. */
  complianceFlags: list(z.string()),
  minAmountAtRisk: z.number().nonnegative().optional(),
  minOrderValue: z.number().nonnegative().optional(),
  /** JSONata over the canonical exception; the condition holds when the result is truthy. Compiled once, time-boxed. */
  expression: z.string().min(1).max(4000).optional(),
});
export type RuleCondition = z.infer<typeof RuleConditionSchema>;

/** A later exception matching this rule resolves the open case with its correlation key (when its code is listed). */
const Clears = z.strictObject({ code: list(z.enum(EXCEPTION_CODES)) });

const Rule = z.strictObject({
  id: policyId,
  description: z.string().max(1000).optional(),
  when: RuleConditionSchema.default({}),
  then: z.strictObject({
    team: z.string().min(1),
    /** More teams working the case next to the owner (declared team ids): on the case's `extraTeams` from opening. */
    extraTeams: z.array(z.string().min(1).max(64)).min(1).optional(),
    severity: z.enum(SEVERITIES).optional(),
    /** Id of an SLA definition in `slas`. */
    sla: z.string().min(1).optional(),
    tasks: z.array(TaskSpecSchema).optional(),
    actions: z.array(ActionSpecSchema).optional(),
    clears: Clears.optional(),
  }),
});

const Team = z.strictObject({
  id: z.string().min(1).max(64),
  name: z.string().min(1),
  /** Scope: a team limited to some business units / sites only owns exceptions from them; rules naming it elsewhere are skipped. */
  businessUnits: list(z.string()),
  sites: list(z.string()),
  /** Who a `team-lead` escalation reaches (named in its event, so a paging or chat tool can reach them). */
  lead: z.strictObject({ name: z.string().min(1).max(200), contact: z.string().min(1).max(320) }).optional(),
});

/** Noise controls (all off when 0). */
export const NoiseSchema = z.strictObject({
  /** Same code + same references within this many seconds: the stored exception's occurrence count goes up instead of a new row. */
  repeatWindowSeconds: z.number().int().min(0).max(7 * 86400).default(0),
  /** More than this many exceptions of one code from one connector within a minute become one incident case. */
  stormPerMinute: z.number().int().min(0).max(1_000_000).default(0),
  /** A case resolved less than this many minutes ago re-opens when its cause (same correlation key) recurs. */
  reopenWindowMinutes: z.number().int().min(0).max(90 * 1440).default(0),
});
export type NoiseSettings = z.infer<typeof NoiseSchema>;

export const RoutingPolicySchema = z
  .strictObject({
    id: policyId,
    version: semver,
    description: z.string().max(2000).default(''),
    teams: z.array(Team).min(1),
    /** Exceptions below this severity are recorded and reported but open no case; by default `info` opens none. */
    caseMinSeverity: z.enum(SEVERITIES).default('standard'),
    noise: NoiseSchema.default({ repeatWindowSeconds: 0, stormPerMinute: 0, reopenWindowMinutes: 0 }),
    /** Time limit for each rule `expression` evaluation; a rule whose expression fails or times out does not match. */
    expressionTimeoutMs: z.number().int().min(1).max(1000).default(50),
    /** What site / business-unit overlays may change: paths such as `rules.<id>.then.team`, `rules.*.then.severity`, `noise.*`, `slas.*`, `rules.add`, `teams.add`. */
    overridable: z.array(z.string().min(1).max(200)).default([]),
    calendars: z.array(CalendarSchema).default([]),
    slas: z.array(SlaDefinitionSchema).default([]),
    rules: z.array(Rule),
    fallback: z.strictObject({ team: z.string().min(1) }),
  })
  .superRefine((p, ctx) => {
    const teams = new Set(p.teams.map((t) => t.id));
    const seen = new Set<string>();
    p.rules.forEach((r, i) => {
      if (seen.has(r.id)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `duplicate rule id ${r.id}` });
      seen.add(r.id);
      if (!teams.has(r.then.team)) {
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'then', 'team'], message: `team ${r.then.team} is not declared in teams` });
      }
      r.then.extraTeams?.forEach((t, j) => {
        if (!teams.has(t)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'then', 'extraTeams', j], message: `team ${t} is not declared in teams` });
        else if (t === r.then.team) ctx.addIssue({ code: 'custom', path: ['rules', i, 'then', 'extraTeams', j], message: `team ${t} already owns the case` });
      });
    });
    if (!teams.has(p.fallback.team)) {
      ctx.addIssue({ code: 'custom', path: ['fallback', 'team'], message: `team ${p.fallback.team} is not declared in teams` });
    }
    checkRuleOutputs(p, ctx);
  });
export type RoutingPolicy = z.infer<typeof RoutingPolicySchema>;
export type RoutingRule = z.infer<typeof Rule>;
export type RoutingTeam = z.infer<typeof Team>;

/**
 * A site / business-unit overlay: changes an enterprise policy only where it says `overridable`.
 * `set` maps a path (`rules.<ruleId>.then.team`, `noise.stormPerMinute`, `slas.<slaId>` ...) to its new value;
 * `addRules` may decide only what the enterprise leaves open (see policy-overlay.ts); `addTeams` declare local teams.
 */
export const PolicyOverlaySchema = z.strictObject({
  id: policyId,
  version: semver,
  description: z.string().max(2000).default(''),
  extends: policyId,
  scope: z
    .strictObject({ sites: list(z.string()), businessUnits: list(z.string()) })
    .refine((s) => s.sites || s.businessUnits, 'give sites, businessUnits or both'),
  set: z.record(z.string().min(1).max(200), z.unknown()).default({}),
  addRules: z.array(Rule).default([]),
  addTeams: z.array(Team).default([]),
});
export type PolicyOverlay = z.infer<typeof PolicyOverlaySchema>;

export interface PolicySet {
  /** Enterprise policies: newest version per id. */
  policies: Map<string, RoutingPolicy>;
  /** Overlays: newest version per id. */
  overlays: Map<string, PolicyOverlay>;
  /** Every version of every file, for simulation of a named version. */
  all: Map<string, RoutingPolicy | PolicyOverlay>;
}

export const isOverlay = (doc: unknown): boolean => !!doc && typeof doc === 'object' && 'extends' in doc;

/** Parses one policy or overlay document; a one-line message naming the field on failure. */
export function parsePolicyDocument(doc: unknown): { policy: RoutingPolicy } | { overlay: PolicyOverlay } | { error: string } {
  const r = isOverlay(doc) ? PolicyOverlaySchema.safeParse(doc) : RoutingPolicySchema.safeParse(doc);
  if (!r.success) return { error: `${r.error.issues[0].path.join('.') || '(root)'}: ${r.error.issues[0].message}` };
  return isOverlay(doc) ? { overlay: r.data as PolicyOverlay } : { policy: r.data as RoutingPolicy };
}

/** Reads policies/<id>/<version>/policy.json (enterprise policies and overlays). */
export async function loadPolicySet(root: string): Promise<PolicySet> {
  const set: PolicySet = { policies: new Map(), overlays: new Map(), all: new Map() };
  let ids: string[];
  try {
    ids = await readdir(root);
  } catch {
    throw new ConfigError(`HUB_POLICIES_DIR "${root}" cannot be read; point it at the policies/ folder`);
  }
  for (const id of ids.sort()) {
    let versions: string[];
    try {
      versions = await readdir(path.join(root, id));
    } catch {
      continue;
    }
    for (const version of versions) {
      const file = path.join(root, id, version, 'policy.json');
      let doc: unknown;
      try {
        doc = JSON.parse(await readFile(file, 'utf8'));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') continue;
        throw new ConfigError(`${file}: ${(e as Error).message}`);
      }
      const parsed = parsePolicyDocument(doc);
      if ('error' in parsed) throw new ConfigError(`${file}: ${parsed.error}`);
      const p = 'policy' in parsed ? parsed.policy : parsed.overlay;
      if (p.id !== id || p.version !== version) throw new ConfigError(`${file}: id/version must match the folder (${id}/${version})`);
      set.all.set(`${id}@${version}`, p);
      const target = ('policy' in parsed ? set.policies : set.overlays) as Map<string, typeof p>;
      const prev = target.get(id);
      if (!prev || compareSemver(p.version, prev.version) > 0) target.set(id, p);
    }
  }
  return set;
}

/** Enterprise policies only (newest version per id); overlays are read by loadPolicySet. */
export async function loadPolicies(root: string): Promise<Map<string, RoutingPolicy>> {
  return (await loadPolicySet(root)).policies;
}

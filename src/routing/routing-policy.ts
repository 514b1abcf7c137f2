import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { CATEGORIES, EXCEPTION_CODES, SEVERITIES } from '../canonical/taxonomy.js';
import { ConfigError } from '../config/hub-config.js';
import { compareSemver } from '../mapping/mapping-registry.service.js';
import { ActionSpecSchema, CalendarSchema, checkRuleOutputs, SlaDefinitionSchema, TaskSpecSchema } from './rule-outputs.js';

const list = <T extends z.ZodType>(t: T) => z.array(t).min(1).optional();

const Rule = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/),
  description: z.string().max(1000).optional(),
  when: z
    .strictObject({
      code: list(z.enum(EXCEPTION_CODES)),
      category: list(z.enum(CATEGORIES)),
      severity: list(z.enum(SEVERITIES)),
      customerTier: list(z.string()),
      site: list(z.string()),
      businessUnit: list(z.string()),
      connectorId: list(z.string()),
      minAmountAtRisk: z.number().nonnegative().optional(),
    })
    .default({}),
  then: z.strictObject({
    team: z.string().min(1),
    severity: z.enum(SEVERITIES).optional(),
    /** Id of an SLA definition in `slas`. */
    sla: z.string().min(1).optional(),
    tasks: z.array(TaskSpecSchema).optional(),
    actions: z.array(ActionSpecSchema).optional(),
  }),
});

export const RoutingPolicySchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/),
    version: z.string().regex(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/),
    description: z.string().max(2000).default(''),
    teams: z.array(z.strictObject({ id: z.string().min(1).max(64), name: z.string().min(1) })).min(1),
    /** Exceptions below this severity are recorded and reported but open no case. */
    caseMinSeverity: z.enum(SEVERITIES).default('info'),
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
    });
    if (!teams.has(p.fallback.team)) {
      ctx.addIssue({ code: 'custom', path: ['fallback', 'team'], message: `team ${p.fallback.team} is not declared in teams` });
    }
    checkRuleOutputs(p, ctx);
  });
export type RoutingPolicy = z.infer<typeof RoutingPolicySchema>;
export type RoutingRule = z.infer<typeof Rule>;

/** Reads policies/<id>/<version>/policy.json; returns the newest version of each policy id. */
export async function loadPolicies(root: string): Promise<Map<string, RoutingPolicy>> {
  const out = new Map<string, RoutingPolicy>();
  let ids: string[];
  try {
    ids = await readdir(root);
  } catch {
    throw new ConfigError(`HUB_POLICIES_DIR "${root}" cannot be read; point it at the policies/ folder`);
  }
  for (const id of ids) {
    let versions: string[];
    try {
      versions = await readdir(path.join(root, id));
    } catch {
      continue;
    }
    for (const version of versions) {
      const file = path.join(root, id, version, 'policy.json');
      let policy: RoutingPolicy;
      try {
        policy = RoutingPolicySchema.parse(JSON.parse(await readFile(file, 'utf8')));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        const msg = e instanceof z.ZodError ? `${e.issues[0].path.join('.')}: ${e.issues[0].message}` : (e as Error).message;
        throw new ConfigError(`${file}: ${msg}`);
      }
      if (policy.id !== id || policy.version !== version) {
        throw new ConfigError(`${file}: id/version must match the folder (${id}/${version})`);
      }
      const prev = out.get(id);
      if (!prev || compareSemver(policy.version, prev.version) > 0) out.set(id, policy);
    }
  }
  return out;
}

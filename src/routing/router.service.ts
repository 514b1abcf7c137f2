import { Inject, Injectable, Optional } from '@nestjs/common';
import { ActiveArtifacts } from '../mapping/active-artifacts.service.js';
import type { CanonicalException } from '../canonical/exception.schema.js';
import { severityRank, type Severity } from '../canonical/taxonomy.js';
import { ConfigError, HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import type { ActionSpec, TaskSpec } from './rule-outputs.js';
import { loadPolicies, type RoutingPolicy, type RoutingRule } from './routing-policy.js';

export interface RoutingDecision {
  team: string;
  severity: Severity;
  /** False when the exception is below the policy's case threshold: recorded, reported, no case. */
  opensCase: boolean;
  policy: { id: string; version: string };
  ruleId: string | null;
  reason: string;
  /** From the matching rule (src/routing/rule-outputs.ts): SLA definition id, parallel tasks, actions. */
  sla: string | null;
  tasks: TaskSpec[];
  actions: ActionSpec[];
}

const DEFAULT_POLICY = 'default';

/** Decides owner team and severity for an exception from the routing policy; explains every decision. */
@Injectable()
export class Router {
  private policy?: RoutingPolicy;

  constructor(
    @Inject(HUB_CONFIG) private readonly cfg: HubConfig,
    /** The versions in force (src/mapping). Without it (unit tests) the newest file version is used. */
    @Optional() private readonly active?: ActiveArtifacts,
  ) {}

  async load(): Promise<RoutingPolicy> {
    const policies = await loadPolicies(this.cfg.policiesDir);
    const p = policies.get(DEFAULT_POLICY);
    if (!p) throw new ConfigError(`no policy "${DEFAULT_POLICY}" under HUB_POLICIES_DIR "${this.cfg.policiesDir}"; add policies/default/<version>/policy.json`);
    this.policy = p;
    return p;
  }

  /** The policy in force: the activated version of policy 'default' (see ActiveArtifacts), else the one load() read. */
  current(): RoutingPolicy {
    const p = this.active?.policy(DEFAULT_POLICY) ?? this.policy;
    if (!p) throw new Error('routing policy not loaded');
    return p;
  }

  decide(e: CanonicalException): RoutingDecision {
    const p = this.current();
    for (const rule of p.rules) {
      const why = matches(rule, e);
      if (why) {
        const severity = rule.then.severity ?? e.severity;
        return {
          team: rule.then.team,
          severity,
          opensCase: severityRank(severity) >= severityRank(p.caseMinSeverity),
          policy: { id: p.id, version: p.version },
          ruleId: rule.id,
          reason: `rule ${rule.id} matched (${why})${rule.then.severity ? `; severity set to ${rule.then.severity}` : ''}`,
          sla: rule.then.sla ?? null,
          tasks: rule.then.tasks ?? [],
          actions: rule.then.actions ?? [],
        };
      }
    }
    return {
      team: p.fallback.team,
      severity: e.severity,
      opensCase: severityRank(e.severity) >= severityRank(p.caseMinSeverity),
      policy: { id: p.id, version: p.version },
      ruleId: null,
      reason: 'no rule matched; fallback team',
      sla: null,
      tasks: [],
      actions: [],
    };
  }
}

/** Returns a description of why the rule matches, or null. Every listed condition must hold. */
function matches(rule: RoutingRule, e: CanonicalException): string | null {
  const w = rule.when;
  const facts: Record<string, string | undefined> = {
    code: e.code,
    category: e.category,
    severity: e.severity,
    customerTier: e.customerTier,
    site: e.site,
    businessUnit: e.businessUnit,
    connectorId: e.source.connectorId,
  };
  const why: string[] = [];
  for (const key of ['code', 'category', 'severity', 'customerTier', 'site', 'businessUnit', 'connectorId'] as const) {
    const allowed = w[key] as string[] | undefined;
    if (!allowed) continue;
    const v = facts[key];
    if (v === undefined || !allowed.includes(v)) return null;
    why.push(`${key}=${v}`);
  }
  if (w.minAmountAtRisk !== undefined) {
    const amount = e.amountAtRisk?.amount;
    if (amount === undefined || amount < w.minAmountAtRisk) return null;
    why.push(`amountAtRisk ${amount} >= ${w.minAmountAtRisk}`);
  }
  return why.length ? why.join(', ') : 'unconditional';
}

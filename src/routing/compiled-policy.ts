import jsonata from 'jsonata';
import type { CanonicalException } from '../canonical/exception.schema.js';
import { guard, TIMEBOX, type Timebox } from '../mapping/mapping-registry.service.js';
import type { RoutingPolicy, RoutingRule, RoutingTeam } from './routing-policy.js';

/** Why a rule matched (or was passed over): one line per condition. */
export interface RuleVerdict {
  matched: boolean;
  because: string[];
  /** Set when a rule's conditions held but its team does not cover the exception's site / business unit, or its expression failed. */
  skipped?: string;
}

export class PolicyExpressionError extends Error {}

interface CompiledRule {
  rule: RoutingRule;
  expression?: jsonata.Expression;
}

/**
 * A routing policy made ready to decide: every rule `expression` compiled (and guarded) once.
 * A syntax error in an expression is reported at load with the rule id and position.
 */
export class CompiledPolicy {
  readonly rules: CompiledRule[];
  private readonly teams: Map<string, RoutingTeam>;

  constructor(
    readonly policy: RoutingPolicy,
    readonly overlay: { id: string; version: string } | null = null,
  ) {
    this.teams = new Map(policy.teams.map((t) => [t.id, t]));
    this.rules = policy.rules.map((rule) => {
      if (!rule.when.expression) return { rule };
      try {
        const expression = jsonata(rule.when.expression);
        guard(expression);
        return { rule, expression };
      } catch (e) {
        const err = e as { message: string; position?: number };
        throw new PolicyExpressionError(`rules.${rule.id}.when.expression: ${err.message} at position ${err.position ?? '?'}`);
      }
    });
  }

  /** Evaluates one rule. Declarative conditions first (cheap), the JSONata expression last. */
  async evaluate(c: CompiledRule, e: CanonicalException): Promise<RuleVerdict> {
    const because = declarative(c.rule, e);
    if (!because) return { matched: false, because: [] };
    if (c.expression) {
      const timeoutMs = this.policy.expressionTimeoutMs;
      const timebox: Timebox = { deadline: Date.now() + timeoutMs, timeoutMs, steps: 0, depth: 0 };
      try {
        const v = await c.expression.evaluate(e, { [TIMEBOX]: timebox });
        if (!truthy(v)) return { matched: false, because: [] };
        because.push(`expression ${c.rule.when.expression} is true`);
      } catch (err) {
        return { matched: false, because: [], skipped: `expression failed: ${(err as Error).message}` };
      }
    }
    const team = this.teams.get(c.rule.then.team);
    const outside = team && outOfScope(team, e);
    if (outside) return { matched: false, because, skipped: `team ${team.id} ${outside}` };
    return { matched: true, because: because.length ? because : ['unconditional'] };
  }
}

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(truthy);
  return v !== undefined && v !== null && v !== false && v !== 0 && v !== '';
}

function outOfScope(team: RoutingTeam, e: CanonicalException): string | null {
  if (team.sites && !(e.site && team.sites.includes(e.site))) return `only covers sites ${team.sites.join(', ')} (exception site ${e.site ?? 'none'})`;
  if (team.businessUnits && !(e.businessUnit && team.businessUnits.includes(e.businessUnit))) {
    return `only covers business units ${team.businessUnits.join(', ')} (exception business unit ${e.businessUnit ?? 'none'})`;
  }
  return null;
}

type ListFact = 'code' | 'category' | 'severity' | 'customerTier' | 'site' | 'businessUnit' | 'connectorId' | 'supplier' | 'inventoryCriticality';
const LIST_FACTS: ListFact[] = ['code', 'category', 'severity', 'customerTier', 'site', 'businessUnit', 'connectorId', 'supplier', 'inventoryCriticality'];

function fact(e: CanonicalException, key: ListFact): string | undefined {
  switch (key) {
    case 'connectorId':
      return e.source.connectorId;
    case 'supplier':
      return e.references.supplier;
    default:
      return e[key];
  }
}

/** The declarative `when` conditions: a list of reasons when all hold, else null. Exported for the bench's bare loop. */
export function declarative(rule: RoutingRule, e: CanonicalException): string[] | null {
  const w = rule.when;
  const why: string[] = [];
  for (const key of LIST_FACTS) {
    const allowed = w[key] as string[] | undefined;
    if (!allowed) continue;
    const v = fact(e, key);
    if (v === undefined || !allowed.includes(v)) return null;
    why.push(`${key}=${v}`);
  }
  if (w.complianceFlags) {
    const hit = (e.complianceFlags ?? []).filter((f) => w.complianceFlags!.includes(f));
    if (!hit.length) return null;
    why.push(`complianceFlags include ${hit.join(', ')}`);
  }
  if (w.minAmountAtRisk !== undefined) {
    const amount = e.amountAtRisk?.amount;
    if (amount === undefined || amount < w.minAmountAtRisk) return null;
    why.push(`amountAtRisk ${amount} >= ${w.minAmountAtRisk}`);
  }
  if (w.minOrderValue !== undefined) {
    const amount = e.orderValue?.amount;
    if (amount === undefined || amount < w.minOrderValue) return null;
    why.push(`orderValue ${amount} >= ${w.minOrderValue}`);
  }
  return why;
}

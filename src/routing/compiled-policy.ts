import jsonata from 'jsonata';
import type { CanonicalException } from '../canonical/exception.schema.js';
import { guard, TIMEBOX, type Timebox } from '../mapping/mapping-registry.service.js';
import { isOverridable } from './policy-overlay.js';
import type { RoutingPolicy, RoutingRule, RoutingTeam, RuleCondition } from './routing-policy.js';

/** Why a rule matched (or was passed over): one line per condition. */
export interface RuleVerdict {
  matched: boolean;
  because: string[];
  /** Set when a rule's conditions held but its team does not cover the exception's site / business unit, or its expression failed. */
  skipped?: string;
}

export class PolicyExpressionError extends Error {}

export interface CompiledRule {
  rule: RoutingRule;
  /** The rule's conditions with every key present, in one order: one object shape for all rules keeps property reads fast. */
  when: RuleCondition;
  expression?: jsonata.Expression;
}

const CONDITION_KEYS = [
  'code', 'category', 'severity', 'customerTier', 'site', 'businessUnit', 'connectorId', 'supplier',
  'inventoryCriticality', 'complianceFlags', 'minAmountAtRisk', 'minOrderValue', 'expression',
] as const satisfies readonly (keyof RuleCondition)[];

function normalized(w: RuleCondition): RuleCondition {
  const out: Record<string, unknown> = {};
  for (const k of CONDITION_KEYS) out[k] = w[k];
  return out as RuleCondition;
}

/**
 * A routing policy made ready to decide: every rule `expression` compiled (and guarded) once.
 * A syntax error in an expression is reported at load with the rule id and position.
 */
export class CompiledPolicy {
  readonly rules: CompiledRule[];
  /** An overlay's `addRules` (its effective policy lists them first) and the enterprise rules, apart: see PolicyEngine.decide. */
  readonly added: CompiledRule[];
  readonly enterpriseRules: CompiledRule[];
  /** Every enterprise rule's team is overridable: the overlay's rules may simply be tried first. */
  readonly allPreemptable: boolean;
  private readonly preemptableIds: ReadonlySet<string>;
  private readonly teams: Map<string, RoutingTeam>;

  constructor(
    readonly policy: RoutingPolicy,
    readonly overlay: { id: string; version: string; addedRules?: ReadonlySet<string> } | null = null,
  ) {
    this.teams = new Map(policy.teams.map((t) => [t.id, t]));
    this.rules = policy.rules.map((rule) => {
      const when = normalized(rule.when);
      if (!rule.when.expression) return { rule, when };
      try {
        const expression = jsonata(rule.when.expression);
        guard(expression);
        return { rule, when, expression };
      } catch (e) {
        const err = e as { message: string; position?: number };
        throw new PolicyExpressionError(`rules.${rule.id}.when.expression: ${err.message} at position ${err.position ?? '?'}`);
      }
    });
    const added = overlay?.addedRules ?? new Set<string>();
    this.added = this.rules.filter((c) => added.has(c.rule.id));
    this.enterpriseRules = this.rules.filter((c) => !added.has(c.rule.id));
    // Known once per policy, not looked up per decision.
    this.preemptableIds = new Set(this.enterpriseRules.filter((c) => isOverridable(policy, `rules.${c.rule.id}.then.team`)).map((c) => c.rule.id));
    this.allPreemptable = this.preemptableIds.size === this.enterpriseRules.length;
  }

  /**
   * Whether an overlay's added rule may decide an exception this enterprise rule would decide: only
   * when the overlay may change the rule's owner team anyway (`rules.<id>.then.team` overridable).
   * A rule whose team is locked keeps its whole outcome at every site.
   */
  preemptable(c: CompiledRule): boolean {
    return this.preemptableIds.has(c.rule.id);
  }

  /**
   * Finishes a rule whose declarative conditions held (`because`, from declarative()): the JSONata
   * expression, then the team's scope. Synchronous when there is no expression, which keeps the
   * common path free of promise overhead.
   */
  settle(c: CompiledRule, e: CanonicalException, because: string[]): RuleVerdict | Promise<RuleVerdict> {
    if (!c.expression) return this.scoped(c, e, because);
    return this.withExpression(c, c.expression, e, because);
  }

  private async withExpression(c: CompiledRule, expression: jsonata.Expression, e: CanonicalException, because: string[]): Promise<RuleVerdict> {
    const timeoutMs = this.policy.expressionTimeoutMs;
    const timebox: Timebox = { deadline: Date.now() + timeoutMs, timeoutMs, steps: 0, depth: 0 };
    try {
      const v = await expression.evaluate(e, { [TIMEBOX]: timebox });
      if (!truthy(v)) return { matched: false, because: [] };
    } catch (err) {
      return { matched: false, because: [], skipped: `expression failed: ${(err as Error).message}` };
    }
    return this.scoped(c, e, [...because, `expression ${c.rule.when.expression} is true`]);
  }

  private scoped(c: CompiledRule, e: CanonicalException, because: string[]): RuleVerdict {
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

/** Whether every declarative `when` condition holds. The hot path: no strings built, first failing condition returns. */
export function holds(w: RuleCondition, e: CanonicalException): boolean {
  if (w.code && !w.code.includes(e.code)) return false;
  if (w.category && !w.category.includes(e.category)) return false;
  if (w.site && !(e.site !== undefined && w.site.includes(e.site))) return false;
  if (w.businessUnit && !(e.businessUnit !== undefined && w.businessUnit.includes(e.businessUnit))) return false;
  if (w.customerTier && !(e.customerTier !== undefined && w.customerTier.includes(e.customerTier))) return false;
  if (w.severity && !w.severity.includes(e.severity)) return false;
  if (w.connectorId && !w.connectorId.includes(e.source.connectorId)) return false;
  if (w.supplier && !(e.references.supplier !== undefined && w.supplier.includes(e.references.supplier))) return false;
  if (w.inventoryCriticality && !(e.inventoryCriticality !== undefined && w.inventoryCriticality.includes(e.inventoryCriticality))) return false;
  if (w.complianceFlags && !(e.complianceFlags ?? []).some((f) => w.complianceFlags!.includes(f))) return false;
  if (w.minAmountAtRisk !== undefined && !(e.amountAtRisk !== undefined && e.amountAtRisk.amount >= w.minAmountAtRisk)) return false;
  if (w.minOrderValue !== undefined && !(e.orderValue !== undefined && e.orderValue.amount >= w.minOrderValue)) return false;
  return true;
}

/** The declarative conditions that held, one line each, for the explanation; null when one does not hold. */
export function declarative(rule: RoutingRule, e: CanonicalException): string[] | null {
  if (!holds(rule.when, e)) return null;
  const w = rule.when;
  const why: string[] = [];
  for (const key of LIST_FACTS) if (w[key]) why.push(`${key}=${fact(e, key)}`);
  if (w.complianceFlags) why.push(`complianceFlags include ${(e.complianceFlags ?? []).filter((f) => w.complianceFlags!.includes(f)).join(', ')}`);
  if (w.minAmountAtRisk !== undefined) why.push(`amountAtRisk ${e.amountAtRisk!.amount} >= ${w.minAmountAtRisk}`);
  if (w.minOrderValue !== undefined) why.push(`orderValue ${e.orderValue!.amount} >= ${w.minOrderValue}`);
  return why;
}

import { IANAZone, Duration } from 'luxon';
import { z } from 'zod';
import { SEVERITIES } from '../canonical/taxonomy.js';

/**
 * What a routing rule can set besides team and severity: the SLA it runs under, parallel tasks and
 * actions; plus the SLA definitions and calendars a policy declares. The Router passes them through
 * from the matching rule to the case; src/sla and src/actions act on them. See docs/sla.md.
 */

const id = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be lower-case letters, digits and dashes (max 64)');
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be HH:MM (00:00 to 24:00)');
/** Business time is counted in hours/minutes/seconds: "a day" of business hours is ambiguous. */
export const BusinessDuration = z.preprocess(
  // Already milliseconds (whole seconds): a parsed policy parses again unchanged, as overlays need.
  (v) => (typeof v === 'number' && Number.isInteger(v) && v > 0 && v % 1000 === 0 ? `PT${v / 1000}S` : v),
  z
    .string()
    .regex(/^PT(\d+H)?(\d+M)?(\d+S)?$/, 'must be an ISO-8601 time duration such as PT4H, PT30M or PT1H30M (no days: business days differ in length)')
    .refine((v) => v !== 'PT' && Duration.fromISO(v).isValid, 'must be an ISO-8601 time duration such as PT4H')
    .transform((v) => Duration.fromISO(v).as('milliseconds')),
);

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const Interval = z.tuple([hhmm, hhmm]).refine(([a, b]) => a < b, 'an interval must end after it starts');

/** Business hours in a time zone, with holidays; or `"hours": "24x7"`. */
export const CalendarSchema = z.strictObject({
  id,
  timeZone: z.string().refine((v) => IANAZone.isValidZone(v), 'must be an IANA time zone such as America/Chicago'),
  hours: z.union([
    z.literal('24x7'),
    z.partialRecord(z.enum(WEEKDAYS), z.array(Interval).max(8)).refine((h) => Object.values(h).some((v) => v && v.length), 'declare at least one business interval'),
  ]),
  /** Local dates with no business hours. */
  holidays: z.array(z.iso.date()).default([]),
});
export type CalendarSpec = z.infer<typeof CalendarSchema>;

/** Case facts a target may depend on (business impact). Every listed condition must hold. */
const ImpactCondition = z.strictObject({
  severity: z.array(z.enum(SEVERITIES)).min(1).optional(),
  customerTier: z.array(z.string().min(1)).min(1).optional(),
  minAmountAtRisk: z.number().nonnegative().optional(),
  /** The order's value (`orderValue.amount` of the exception) at least this. */
  minOrderValue: z.number().nonnegative().optional(),
});
export type ImpactCondition = z.infer<typeof ImpactCondition>;

export const CLOCK_KINDS = ['acknowledge', 'resolve'] as const;
const ClockSpec = z.strictObject({
  kind: z.enum(CLOCK_KINDS),
  /** Default target, in business time. */
  target: BusinessDuration,
  /** First matching entry wins over `target`: e.g. critical or strategic customers get less time. */
  targets: z.array(z.strictObject({ when: ImpactCondition, target: BusinessDuration })).default([]),
  /**
   * Due at a date taken from the exception's attributes (e.g. the requested ship date) minus `before`;
   * `target` applies when the attribute is missing or not a date.
   */
  dueFrom: z.strictObject({ attribute: z.string().min(1).max(128), before: BusinessDuration.optional() }).optional(),
});

const Percent = z.number().int().min(1).max(1000);
/** `to`: "team-lead" (the owner team's lead is notified) or a declared team id (added to the case; `reassign` makes it the owner). */
const Escalation = z.strictObject({ at: Percent, to: z.string().min(1).max(64), reassign: z.boolean().default(false) });
export type EscalationSpec = z.infer<typeof Escalation>;

export const SlaDefinitionSchema = z
  .strictObject({
    id,
    description: z.string().max(1000).optional(),
    /** A calendar id from `calendars`, or "24x7" (UTC, no holidays). */
    calendar: z.string().min(1).max(64).default('24x7'),
    clocks: z.array(ClockSpec).min(1),
    /** Percent of the target at which sla.warning is raised; 100 % is the breach. */
    warnings: z.array(Percent.max(99)).default([50, 75]),
    escalations: z.array(Escalation).default([]),
    /** Severities whose cases run under this SLA when their rule names none. */
    defaultFor: z.array(z.enum(SEVERITIES)).default([]),
  })
  .superRefine((s, ctx) => {
    const kinds = s.clocks.map((c) => c.kind);
    if (new Set(kinds).size !== kinds.length) ctx.addIssue({ code: 'custom', path: ['clocks'], message: 'one clock per kind' });
    const at = s.escalations.map((e) => e.at);
    if (at.some((v, i) => i > 0 && v < at[i - 1])) ctx.addIssue({ code: 'custom', path: ['escalations'], message: 'escalations must be in order of `at`' });
  });
export type SlaDefinitionSpec = z.infer<typeof SlaDefinitionSchema>;

export const TaskSpecSchema = z.strictObject({
  /** Stable within the rule: a case never gets the same task twice. */
  id,
  team: z.string().min(1).max(64),
  title: z.string().min(1).max(200),
  /** SLA definition id; its `resolve` clock (or first clock) times the task. */
  sla: z.string().min(1).max(64).optional(),
  /** Required tasks must be done before the case can be resolved; completing the last one resolves it. */
  required: z.boolean().default(true),
});
export type TaskSpec = z.infer<typeof TaskSpecSchema>;

export const ActionSpecSchema = z.strictObject({
  /** `notify`, `http`, or `<connectorId>.<action>` for a connector action (e.g. `erp.placeInvoiceHold`). */
  action: z.string().regex(/^(notify|http|[a-z0-9][a-z0-9-]{0,63}\.[A-Za-z][A-Za-z0-9_-]{0,63})$/, 'must be notify, http or <connectorId>.<action>'),
  /** `{{path}}` in a string value is taken from the exception that opened the case (src/actions/action-params.ts). */
  params: z.record(z.string(), z.unknown()).default({}),
  /** `open` (default): runs when the case opens. `resolve`: recorded with the case, runs when it resolves (by hand, by its tasks or by a clear), e.g. releasing a hold placed on open. */
  on: z.enum(['open', 'resolve']).default('open'),
});
export type ActionSpec = z.infer<typeof ActionSpecSchema>;

/** JSON with object keys sorted at every level: equal values give equal text, whatever order the policy wrote them in. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/**
 * What makes an action the action it is within a rule: its type, when it runs and its params as the
 * policy declares them (before `{{path}}` filling). Two actions of one rule with the same identity
 * would be one effect, so the policy is refused; the idempotency key is derived from it
 * (src/actions/case-actions.service.ts), so it does not depend on the action's position in the list.
 */
export function actionIdentity(a: Pick<ActionSpec, 'action' | 'on' | 'params'>): string {
  return canonicalJson({ action: a.action, on: a.on ?? 'open', params: a.params ?? {} });
}

/** Built-in action parameters, checked when the policy loads. */
export const NotifyParams = z.strictObject({ team: z.string().min(1).max(64), message: z.string().min(1).max(2000) });
export const HttpParams = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  body: z.record(z.string(), z.unknown()).default({}),
  timeoutMs: z.number().int().min(100).max(60_000).default(10_000),
});

interface PolicyOutputs {
  teams: { id: string }[];
  calendars: CalendarSpec[];
  slas: SlaDefinitionSpec[];
  rules: { then: { sla?: string; tasks?: TaskSpec[]; actions?: ActionSpec[] } }[];
}

/** Cross-references inside a policy: SLA ids, calendar ids, teams of tasks/escalations/notify; no action twice in a rule. */
export function checkRuleOutputs(p: PolicyOutputs, ctx: z.RefinementCtx): void {
  const teams = new Set(p.teams.map((t) => t.id));
  const calendars = new Set(['24x7', ...p.calendars.map((c) => c.id)]);
  const slas = new Set(p.slas.map((s) => s.id));
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  p.slas.forEach((s, i) => {
    if (!calendars.has(s.calendar)) issue(['slas', i, 'calendar'], `calendar ${s.calendar} is not declared in calendars`);
    s.escalations.forEach((e, j) => {
      if (e.to !== 'team-lead' && !teams.has(e.to)) issue(['slas', i, 'escalations', j, 'to'], `${e.to} is neither "team-lead" nor a declared team`);
    });
  });
  p.rules.forEach((r, i) => {
    const then = r.then;
    if (then.sla && !slas.has(then.sla)) issue(['rules', i, 'then', 'sla'], `SLA ${then.sla} is not declared in slas`);
    const taskIds = new Set<string>();
    then.tasks?.forEach((t, j) => {
      if (taskIds.has(t.id)) issue(['rules', i, 'then', 'tasks', j, 'id'], `duplicate task id ${t.id}`);
      taskIds.add(t.id);
      if (!teams.has(t.team)) issue(['rules', i, 'then', 'tasks', j, 'team'], `team ${t.team} is not declared in teams`);
      if (t.sla && !slas.has(t.sla)) issue(['rules', i, 'then', 'tasks', j, 'sla'], `SLA ${t.sla} is not declared in slas`);
    });
    const actions = new Map<string, number>();
    then.actions?.forEach((a, j) => {
      const same = actions.get(actionIdentity(a));
      if (same !== undefined) issue(['rules', i, 'then', 'actions', j], `duplicate action: same ${a.action} (on ${a.on}, same params) as actions[${same}]; a rule runs each action once per case, so give it once`);
      else actions.set(actionIdentity(a), j);
      const schema = a.action === 'notify' ? NotifyParams : a.action === 'http' ? HttpParams : null;
      if (!schema) return;
      const r2 = schema.safeParse(a.params);
      if (!r2.success) issue(['rules', i, 'then', 'actions', j, 'params', ...r2.error.issues[0].path.map(String)], r2.error.issues[0].message);
      else if (a.action === 'notify' && !teams.has((a.params as { team: string }).team)) issue(['rules', i, 'then', 'actions', j, 'params', 'team'], `team ${(a.params as { team: string }).team} is not declared in teams`);
    });
  });
}

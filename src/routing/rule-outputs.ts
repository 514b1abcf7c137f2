import { z } from 'zod';

/**
 * What a routing rule can set besides team and severity: the SLA it runs under, parallel tasks and
 * actions; plus the SLA definitions and calendars a policy declares. The SLA / tasks / actions work
 * owns these schemas; the Router passes them through from the matching rule to the case.
 */
export const CalendarSchema = z.looseObject({ id: z.string().min(1).max(64) });
export type CalendarSpec = z.infer<typeof CalendarSchema>;

export const SlaDefinitionSchema = z.looseObject({ id: z.string().min(1).max(64) });
export type SlaDefinitionSpec = z.infer<typeof SlaDefinitionSchema>;

export const TaskSpecSchema = z.looseObject({
  team: z.string().min(1).max(64),
  title: z.string().min(1).max(200),
  sla: z.string().min(1).max(64).optional(),
  required: z.boolean().default(true),
});
export type TaskSpec = z.infer<typeof TaskSpecSchema>;

export const ActionSpecSchema = z.looseObject({
  /** `notify`, or `<connectorId>.<action>` for a connector action (e.g. `erp.placeInvoiceHold`). */
  action: z.string().min(1).max(128),
  params: z.record(z.string(), z.unknown()).default({}),
});
export type ActionSpec = z.infer<typeof ActionSpecSchema>;

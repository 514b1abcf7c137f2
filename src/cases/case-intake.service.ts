import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import type { CanonicalException } from '../canonical/exception.schema.js';
import { maxSeverity, type Severity } from '../canonical/taxonomy.js';
import type { AuditEntry } from '../audit/audit-trail.service.js';
import { SYSTEM_ACTOR } from '../audit/audit-trail.service.js';
import type { NewEvent } from '../delivery/event-feed.service.js';
import type { RoutingDecision } from '../routing/router.service.js';

export interface RoutedException {
  messageId: string;
  ordinal: number;
  exception: CanonicalException;
  decision: RoutingDecision;
}

export interface IntakeResult {
  exceptionIds: string[];
  /** `opener`: the exception and decision that opened the case (SLA clocks, tasks and actions start from it). */
  casesOpened: { id: string; team: string; opener: RoutedException }[];
  casesJoined: string[];
  audit: AuditEntry[];
  /** Outbox events for the same transaction (exception.created, case.opened, case.updated). */
  events: NewEvent[];
}

interface CaseGroup {
  key: string;
  first: RoutedException;
  count: number;
  severity: Severity;
  amount: number | null;
  currency: string | null;
  exceptionIds: string[];
}

/**
 * Stores routed exceptions and opens or joins their cases, inside the caller's transaction.
 * Built for batches: one upsert for all cases and one insert for all exceptions of a batch.
 */
@Injectable()
export class CaseIntake {
  async record(m: EntityManager, items: RoutedException[]): Promise<IntakeResult> {
    const result: IntakeResult = { exceptionIds: [], casesOpened: [], casesJoined: [], audit: [], events: [] };
    if (items.length === 0) return result;

    const ids = items.map(() => uuidv7());
    const groups = new Map<string, CaseGroup>();
    items.forEach((it, i) => {
      if (!it.decision.opensCase) return;
      // Test-mode traffic never joins production cases.
      const key = (it.exception.source.testMode ? 'test:' : '') + it.exception.correlationKey;
      const g = groups.get(key);
      const amt = it.exception.amountAtRisk;
      if (!g) {
        groups.set(key, {
          key,
          first: it,
          count: 1,
          severity: it.decision.severity,
          amount: amt?.amount ?? null,
          currency: amt?.currency ?? null,
          exceptionIds: [ids[i]],
        });
      } else {
        g.count++;
        g.severity = maxSeverity(g.severity, it.decision.severity);
        if (amt && (g.currency === null || g.currency === amt.currency)) {
          g.amount = (g.amount ?? 0) + amt.amount;
          g.currency = amt.currency;
        }
        g.exceptionIds.push(ids[i]);
      }
    });

    const caseIdByKey = await this.upsertCases(m, [...groups.values()], result);

    const rows = items.map((it, i) => {
      const e = it.exception;
      const key = (e.source.testMode ? 'test:' : '') + e.correlationKey;
      return {
        id: ids[i],
        messageId: it.messageId,
        ordinal: it.ordinal,
        code: e.code,
        category: e.category,
        severity: it.decision.severity,
        title: e.title,
        connectorId: e.source.connectorId,
        documentType: e.source.documentType,
        testMode: e.source.testMode,
        businessUnit: e.businessUnit ?? null,
        site: e.site ?? null,
        orderRef: e.references.order ?? null,
        poRef: e.references.po ?? null,
        customerRef: e.references.customer ?? null,
        supplierRef: e.references.supplier ?? null,
        sku: e.references.sku ?? null,
        customerTier: e.customerTier ?? null,
        amountAtRisk: e.amountAtRisk ? String(e.amountAtRisk.amount) : null,
        currency: e.amountAtRisk?.currency ?? null,
        occurredAt: new Date(e.occurredAt),
        detectedAt: new Date(e.detectedAt),
        correlationKey: e.correlationKey,
        mappingId: e.mapping.id,
        mappingVersion: e.mapping.version,
        caseId: it.decision.opensCase ? (caseIdByKey.get(key) ?? null) : null,
        payload: { ...e, severity: it.decision.severity },
      };
    });
    // Raw SQL: one unnest INSERT for the batch; TypeORM's builder cost about twice the CPU per row.
    const col = <K extends keyof (typeof rows)[number]>(k: K) => rows.map((r) => r[k]);
    await m.query(
      `INSERT INTO exceptions (id, message_id, ordinal, code, category, severity, title, connector_id, document_type, test_mode,
                               business_unit, site, order_ref, po_ref, customer_ref, supplier_ref, sku, customer_tier,
                               amount_at_risk, currency, occurred_at, detected_at, correlation_key, mapping_id, mapping_version, case_id, payload)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::varchar[], $5::varchar[], $6::varchar[], $7::varchar[], $8::varchar[], $9::varchar[],
                            $10::boolean[], $11::varchar[], $12::varchar[], $13::varchar[], $14::varchar[], $15::varchar[], $16::varchar[], $17::varchar[],
                            $18::varchar[], $19::numeric[], $20::char(3)[], $21::timestamptz[], $22::timestamptz[], $23::varchar[], $24::varchar[],
                            $25::varchar[], $26::uuid[], $27::jsonb[])`,
      [
        col('id'), col('messageId'), col('ordinal'), col('code'), col('category'), col('severity'), col('title'), col('connectorId'),
        col('documentType'), col('testMode'), col('businessUnit'), col('site'), col('orderRef'), col('poRef'), col('customerRef'),
        col('supplierRef'), col('sku'), col('customerTier'), col('amountAtRisk'), col('currency'), col('occurredAt'), col('detectedAt'),
        col('correlationKey'), col('mappingId'), col('mappingVersion'), col('caseId'), rows.map((r) => JSON.stringify(r.payload)),
      ],
    );

    rows.forEach((r, i) => {
      result.exceptionIds.push(r.id);
      result.events.push({
        type: 'exception.created',
        caseId: r.caseId,
        entityType: 'exception',
        entityId: r.id,
        facets: { team: items[i].decision.team, code: r.code, severity: r.severity, site: r.site, businessUnit: r.businessUnit },
        payload: { exception: { id: r.id, ...r.payload }, caseId: r.caseId },
      });
      result.audit.push({
        actor: SYSTEM_ACTOR,
        entityType: 'exception',
        entityId: r.id,
        action: 'exception.created',
        after: {
          code: r.code,
          severity: r.severity,
          messageId: r.messageId,
          caseId: r.caseId,
          correlationKey: r.correlationKey,
          mapping: `${r.mappingId}@${r.mappingVersion}`,
          routing: items[i].decision,
        },
      });
    });
    // Subscribers read "exception created, then its case opened/updated".
    result.events = [...result.events.filter((e) => e.type === 'exception.created'), ...result.events.filter((e) => e.type !== 'exception.created')];
    return result;
  }

  private async upsertCases(m: EntityManager, groups: CaseGroup[], result: IntakeResult): Promise<Map<string, string>> {
    const byKey = new Map<string, string>();
    if (groups.length === 0) return byKey;
    // Sorted keys give every worker the same lock order on the unique index, avoiding deadlocks.
    groups.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const now = new Date();
    const cols = {
      id: groups.map(() => uuidv7()),
      key: groups.map((g) => g.key),
      title: groups.map((g) => g.first.exception.title),
      code: groups.map((g) => g.first.exception.code),
      category: groups.map((g) => g.first.exception.category),
      severity: groups.map((g) => g.severity),
      team: groups.map((g) => g.first.decision.team),
      bu: groups.map((g) => g.first.exception.businessUnit ?? null),
      site: groups.map((g) => g.first.exception.site ?? null),
      test: groups.map((g) => g.first.exception.source.testMode),
      count: groups.map((g) => g.count),
      amount: groups.map((g) => (g.amount === null ? null : g.amount.toFixed(2))),
      currency: groups.map((g) => g.currency),
      routing: groups.map((g) => JSON.stringify(explanation(g.first.decision))),
    };
    // Raw SQL: one INSERT .. ON CONFLICT over the partial unique index (open cases per correlation
    // key) opens or joins every case of the batch in one statement, race-free across workers.
    // TypeORM's upsert cannot express the partial-index conflict target or the merge arithmetic.
    const rows: { id: string; correlation_key: string; opened: boolean; owner_team: string; exception_count: number; severity: string }[] =
      await m.query(
        `INSERT INTO cases (id, correlation_key, title, code, category, severity, owner_team, business_unit, site,
                            test_mode, exception_count, amount_at_risk, currency, opened_at, updated_at, routing, status)
         SELECT u.id, u.key, u.title, u.code, u.category, u.severity, u.team, u.bu, u.site,
                u.test, u.count, u.amount, u.currency, $15, $15, u.routing, 'open'
           FROM unnest($1::uuid[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[], $6::varchar[], $7::varchar[],
                       $8::varchar[], $9::varchar[], $10::boolean[], $11::int[], $12::numeric[], $13::char(3)[], $14::jsonb[])
                AS u(id, key, title, code, category, severity, team, bu, site, test, count, amount, currency, routing)
         ON CONFLICT (correlation_key) WHERE status <> 'resolved' DO UPDATE SET
           exception_count = cases.exception_count + EXCLUDED.exception_count,
           severity = CASE WHEN EXCLUDED.severity = 'critical' OR (EXCLUDED.severity = 'standard' AND cases.severity = 'info')
                           THEN EXCLUDED.severity ELSE cases.severity END,
           amount_at_risk = CASE WHEN EXCLUDED.amount_at_risk IS NULL THEN cases.amount_at_risk
                                 WHEN cases.currency IS NULL OR cases.currency = EXCLUDED.currency
                                 THEN COALESCE(cases.amount_at_risk, 0) + EXCLUDED.amount_at_risk
                                 ELSE cases.amount_at_risk END,
           currency = COALESCE(cases.currency, EXCLUDED.currency),
           updated_at = EXCLUDED.updated_at
         RETURNING id, correlation_key, (xmax = 0) AS opened, owner_team, exception_count, severity`,
        [cols.id, cols.key, cols.title, cols.code, cols.category, cols.severity, cols.team, cols.bu, cols.site, cols.test,
         cols.count, cols.amount, cols.currency, cols.routing, now],
      );
    const groupByKey = new Map(groups.map((g) => [g.key, g]));
    for (const r of rows) {
      byKey.set(r.correlation_key, r.id);
      const g = groupByKey.get(r.correlation_key)!;
      const e = g.first.exception;
      result.events.push({
        type: r.opened ? 'case.opened' : 'case.updated',
        caseId: r.id,
        entityType: 'case',
        entityId: r.id,
        facets: { team: r.owner_team, code: e.code, severity: r.severity, site: e.site ?? null, businessUnit: e.businessUnit ?? null },
        payload: {
          case: { id: r.id, correlationKey: r.correlation_key, ownerTeam: r.owner_team, severity: r.severity, exceptionCount: r.exception_count, title: e.title, code: e.code },
          addedExceptions: g.exceptionIds,
          ...(r.opened ? { routing: explanation(g.first.decision) } : {}),
        },
      });
      if (r.opened) {
        result.casesOpened.push({ id: r.id, team: r.owner_team, opener: g.first });
        result.audit.push({
          actor: SYSTEM_ACTOR,
          entityType: 'case',
          entityId: r.id,
          action: 'case.opened',
          after: { correlationKey: r.correlation_key, team: r.owner_team, severity: r.severity, exceptions: g.exceptionIds },
        });
        result.audit.push({
          actor: SYSTEM_ACTOR,
          entityType: 'case',
          entityId: r.id,
          action: 'case.routed',
          after: { team: r.owner_team, ...explanation(g.first.decision) },
        });
      } else {
        result.casesJoined.push(r.id);
        result.audit.push({
          actor: SYSTEM_ACTOR,
          entityType: 'case',
          entityId: r.id,
          action: 'case.updated',
          before: { exceptionCount: r.exception_count - g.count },
          after: { exceptionCount: r.exception_count, severity: r.severity, addedExceptions: g.exceptionIds },
        });
      }
    }
    return byKey;
  }
}

function explanation(d: RoutingDecision) {
  return { policy: d.policy, ruleId: d.ruleId, reason: d.reason };
}

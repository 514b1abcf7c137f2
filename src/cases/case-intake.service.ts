import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import type { CanonicalException } from '../canonical/exception.schema.js';
import { maxSeverity, type Severity } from '../canonical/taxonomy.js';
import type { AuditEntry } from '../audit/audit-trail.service.js';
import { SYSTEM_ACTOR } from '../audit/audit-trail.service.js';
import type { NewEvent } from '../delivery/event-feed.service.js';
import { returnedRows } from '../database/returning.js';
import { Router, type RoutingDecision } from '../routing/router.service.js';
import { insertExceptions, upsertCaseRows, upsertCasesWithExceptions, upsertCasesWithExceptionsIfQuiet, type CaseColumns, type QuietCheck, type UpsertedCase } from './case-rows.js';
import { addOccurrences, findRepeats, findRepeatsAndReopen, fingerprintOf, lockKeys, recentCounts, reopenRecent, resolveCleared, stormKey, type CaseRow } from './noise-control.js';

export interface RoutedException {
  messageId: string;
  ordinal: number;
  exception: CanonicalException;
  decision: RoutingDecision;
}

export interface IntakeResult {
  exceptionIds: string[];
  /** `opener`: the exception and decision that opened the case (SLA clocks, tasks and actions start from it). */
  casesOpened: { id: string; team: string; opener: RoutedException; title: string; severity: string }[];
  casesJoined: string[];
  audit: AuditEntry[];
  /** Outbox events for the same transaction (exception.created, case.opened/updated/reopened/resolved). */
  events: NewEvent[];
  /** Identical repeats counted on a stored exception instead of stored again. */
  repeats: { exceptionId: string; messageId: string }[];
  /** `opener`: the first exception of the batch with the re-opened case's key (its fresh SLA clocks start from it). */
  /** `round`: the case's re-open count after this re-open (its actions run again under keys of that round). */
  casesReopened: { id: string; team: string; round: number; opener: RoutedException }[];
  casesResolved: string[];
}

/** How the noise controls treat one routed exception. */
interface Plan {
  /** Case key (correlation key, `test:` prefixed for test traffic; the storm key for storm members). */
  key: string;
  fingerprint: string | null;
  /** Counted on this stored (or earlier in-batch) exception instead of being stored. */
  repeatOf: string | null;
  occurrences: number;
  storm: number | null;
}

interface CaseGroup {
  key: string;
  first: RoutedException;
  /** Set for an incident case collecting a storm: its title. */
  incident: string | null;
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
  constructor(private readonly router: Router) {}

  /**
   * `keysLocked`: the caller holds a lock that every writer of these exceptions' case keys holds too (so
   * of their fingerprints, which name the key): the noise controls' locks on them would change nothing
   * and are not taken. Storm counters are shared across keys and are still locked.
   */
  async record(m: EntityManager, items: RoutedException[], keysLocked = false): Promise<IntakeResult> {
    // Planned first on the assumption that nothing repeats a stored exception or re-opens a resolved case
    // (the usual case), which the statement that writes checks: one round trip instead of two. When it
    // does not hold, nothing was written, and the batch is planned again from the lookup.
    return (await this.recordOnce(m, items, keysLocked, true)) ?? (await this.recordOnce(m, items, keysLocked, false))!;
  }

  private async recordOnce(m: EntityManager, items: RoutedException[], keysLocked: boolean, assumeQuiet: boolean): Promise<IntakeResult | null> {
    const result: IntakeResult = { exceptionIds: [], casesOpened: [], casesJoined: [], audit: [], events: [], repeats: [], casesReopened: [], casesResolved: [] };
    if (items.length === 0) return result;

    const now = new Date();
    const ids = items.map(() => uuidv7());
    // Only where cases and exceptions are written in one statement (some exception opens a case, none clears one).
    const quietCheck = assumeQuiet && items.some((it) => it.decision.opensCase) && !items.some((it) => it.decision.clears);
    const { plans, reopened, check } = await this.plan(m, items, ids, now, keysLocked, quietCheck);
    const groups = new Map<string, CaseGroup>();
    items.forEach((it, i) => {
      if (!it.decision.opensCase || plans[i].repeatOf) return;
      const key = plans[i].key;
      const g = groups.get(key);
      const amt = it.exception.amountAtRisk;
      if (!g) {
        const e = it.exception;
        groups.set(key, {
          key,
          first: it,
          incident: plans[i].storm ? `Storm: ${e.code} from ${e.source.connectorId} (over ${plans[i].storm} a minute)` : null,
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

    // A resolved case whose cause recurs within the policy's window re-opens (the upsert then joins it);
    // already done with the repeat lookup unless storms were counted.
    const reopenKeys = [...groups.values()]
      .map((g) => ({ key: g.key, minutes: this.router.noiseFor(g.first.exception).reopenWindowMinutes }))
      .filter((k) => k.minutes > 0)
      .map((k) => ({ key: k.key, cutoff: new Date(now.getTime() - k.minutes * 60_000) }));
    for (const r of reopened ?? (await reopenRecent(m, reopenKeys, now))) {
      this.noteCase(result, r, 'case.reopened', { reopenCount: r.reopen_count });
      const g = groups.get(r.correlation_key);
      if (g) result.casesReopened.push({ id: r.id, team: r.owner_team, round: r.reopen_count, opener: g.first });
    }
    const stored = items.map((it, i) => ({ it, i })).filter(({ i }) => !plans[i].repeatOf);
    const rows = stored.map(({ it, i }) => {
      const e = it.exception;
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
        // Set below: the case opened or joined for `caseKey`, or the case a clearing exception resolved.
        caseId: null as string | null,
        caseKey: it.decision.opensCase ? plans[i].key : null,
        payload: { ...e, severity: it.decision.severity },
        // What the source said, for simulating other policies against history (payload has the routed one).
        reportedSeverity: e.severity,
        fingerprint: plans[i].fingerprint,
        occurrences: plans[i].occurrences,
      };
    });
    const caseGroups = [...groups.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    let caseIdByKey: Map<string, string>;
    if (caseGroups.length && rows.length && !items.some((it) => it.decision.clears)) {
      // Nothing to clear in between: cases and exceptions in one statement.
      const upserted = check ? await upsertCasesWithExceptionsIfQuiet(m, caseColumns(caseGroups), rows, now, check) : await upsertCasesWithExceptions(m, caseColumns(caseGroups), rows, now);
      if (!upserted) return null;
      caseIdByKey = this.noteCases(upserted, caseGroups, result);
      for (const r of rows) r.caseId = r.caseKey === null ? null : (caseIdByKey.get(r.caseKey) ?? null);
    } else {
      caseIdByKey = caseGroups.length ? this.noteCases(await upsertCaseRows(m, caseColumns(caseGroups), now), caseGroups, result) : new Map();
      const cleared = await this.clear(m, items, plans, ids, now, result);
      rows.forEach((r, k) => (r.caseId = r.caseKey !== null ? (caseIdByKey.get(r.caseKey) ?? null) : (cleared.get(stored[k].i) ?? null)));
      await insertExceptions(m, rows, now);
    }

    rows.forEach((r, i) => {
      result.exceptionIds.push(r.id);
      result.events.push({
        type: 'exception.created',
        caseId: r.caseId,
        entityType: 'exception',
        entityId: r.id,
        facets: { team: stored[i].it.decision.team, code: r.code, severity: r.severity, site: r.site, businessUnit: r.businessUnit },
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
          routing: stored[i].it.decision,
          ...(r.occurrences > 1 ? { occurrences: r.occurrences } : {}),
        },
      });
    });
    await this.countRepeats(m, items, plans, now, result);
    // Subscribers read "exception created, then its case opened/updated".
    result.events = [...result.events.filter((e) => e.type === 'exception.created'), ...result.events.filter((e) => e.type !== 'exception.created')];
    return result;
  }

  /**
   * Noise controls, decided under advisory locks so two workers see each other's writes: identical
   * repeats (fingerprint within the window) and storm members (over the policy's rate per minute
   * for one connector and code, counted from stored exceptions plus this batch, in order). Without
   * storm members the case keys are final already, so the re-opens are made with the repeat lookup
   * (`reopened`; null: left to the caller).
   */
  private async plan(m: EntityManager, items: RoutedException[], ids: string[], now: Date, keysLocked: boolean, assumeQuiet: boolean): Promise<{ plans: Plan[]; reopened: CaseRow[] | null; check?: QuietCheck }> {
    const noise = items.map((it) => this.router.noiseFor(it.exception));
    const plans: Plan[] = items.map((it, i) => ({
      key: (it.exception.source.testMode ? 'test:' : '') + it.exception.correlationKey,
      fingerprint: noise[i].repeatWindowSeconds > 0 ? fingerprintOf(it.exception) : null,
      repeatOf: null,
      occurrences: 1,
      storm: null,
    }));
    const stormy = items.map((it, i) => it.decision.opensCase && noise[i].stormPerMinute > 0);
    const locks = new Set<string>();
    items.forEach((it, i) => {
      if (plans[i].fingerprint) locks.add(`fp:${plans[i].fingerprint}`);
      if (stormy[i]) locks.add(stormKey(it.exception));
      if (noise[i].reopenWindowMinutes > 0 || it.decision.clears) locks.add(plans[i].key);
    });
    if (!locks.size) return { plans, reopened: null };
    await lockKeys(m, keysLocked ? items.filter((_, i) => stormy[i]).map((it) => stormKey(it.exception)) : locks);

    const fps = new Map<string, Date>();
    plans.forEach((p, i) => p.fingerprint && fps.set(p.fingerprint, new Date(now.getTime() - noise[i].repeatWindowSeconds * 1000)));
    const repeatArgs = [...fps].map(([fp, cutoff]) => ({ fp, cutoff }));
    let reopened: CaseRow[] | null = null;
    let check: QuietCheck | undefined;
    let seen: Map<string, { id: string; caseId: string | null }>;
    if (stormy.some(Boolean)) seen = await findRepeats(m, repeatArgs);
    else if (!repeatArgs.length && !items.some((it, i) => it.decision.opensCase && noise[i].reopenWindowMinutes > 0)) {
      seen = new Map(); // neither to look up: no statement
      reopened = [];
    } else if (assumeQuiet) {
      // Looked up by the statement that writes (`upsertCasesWithExceptionsIfQuiet`): no repeat, no re-open
      // here. The keys it checks for a re-open are those `findRepeatsAndReopen` would re-open: each key's
      // first exception that opens a case and repeats nothing in the batch, with its cutoff.
      seen = new Map();
      reopened = [];
      const opener = new Map<string, number>();
      const firstFp = new Set<string>();
      items.forEach((it, i) => {
        const fp = plans[i].fingerprint;
        const repeat = fp !== null && firstFp.has(fp);
        if (fp) firstFp.add(fp);
        if (it.decision.opensCase && !repeat && !opener.has(plans[i].key)) opener.set(plans[i].key, i);
      });
      const reopen = [...opener].filter(([, i]) => noise[i].reopenWindowMinutes > 0)
        .map(([key, i]) => ({ key, cutoff: new Date(now.getTime() - noise[i].reopenWindowMinutes * 60_000) }));
      check = { fps: repeatArgs, reopen };
    } else {
      const reopenItems = items.map((it, i) => ({
        key: plans[i].key, fp: plans[i].fingerprint, opens: it.decision.opensCase,
        cutoff: noise[i].reopenWindowMinutes > 0 ? new Date(now.getTime() - noise[i].reopenWindowMinutes * 60_000) : null,
      }));
      ({ repeats: seen, reopened } = await findRepeatsAndReopen(m, repeatArgs, reopenItems, now));
    }
    const firstInBatch = new Map<string, number>();
    plans.forEach((p, i) => {
      if (!p.fingerprint) return;
      const stored = seen.get(p.fingerprint);
      const earlier = firstInBatch.get(p.fingerprint);
      if (stored) p.repeatOf = stored.id;
      else if (earlier !== undefined) {
        p.repeatOf = ids[earlier];
        plans[earlier].occurrences++;
      } else firstInBatch.set(p.fingerprint, i);
    });

    const pairs = new Map<string, { connectorId: string; code: string }>();
    items.forEach((it, i) => stormy[i] && pairs.set(`${it.exception.source.connectorId}|${it.exception.code}`, { connectorId: it.exception.source.connectorId, code: it.exception.code }));
    const counts = await recentCounts(m, [...pairs.values()], new Date(now.getTime() - 60_000));
    items.forEach((it, i) => {
      if (!stormy[i] || plans[i].repeatOf) return;
      const pair = `${it.exception.source.connectorId}|${it.exception.code}`;
      const n = (counts.get(pair) ?? 0) + 1;
      counts.set(pair, n);
      if (n > noise[i].stormPerMinute) {
        plans[i].key = stormKey(it.exception);
        plans[i].storm = noise[i].stormPerMinute;
      }
    });
    return { plans, reopened, check };
  }

  /** Exceptions whose rule `clears` a condition resolve the open case of their key; returns item index → resolved case id. */
  private async clear(m: EntityManager, items: RoutedException[], plans: Plan[], ids: string[], now: Date, result: IntakeResult): Promise<Map<number, string>> {
    const byKey = new Map<string, { codes: string[]; note: string; items: number[] }>();
    items.forEach((it, i) => {
      if (!it.decision.clears) return;
      const c = byKey.get(plans[i].key) ?? {
        codes: it.decision.clears,
        note: `Auto-resolved: ${it.exception.code} from ${it.exception.source.connectorId} (message ${it.messageId}, exception ${ids[i]}) cleared the condition (rule ${it.decision.ruleId})`,
        items: [],
      };
      c.items.push(i);
      byKey.set(plans[i].key, c);
    });
    const out = new Map<number, string>();
    const rows = await resolveCleared(m, [...byKey].map(([key, c]) => ({ key, codes: c.codes, note: c.note })), now);
    for (const r of rows) {
      this.noteCase(result, r, 'case.resolved', { status: 'resolved', resolutionNote: r.note });
      for (const i of byKey.get(r.correlation_key)!.items) out.set(i, r.id);
    }
    return out;
  }

  /** Repeats add to their exception's occurrence count; its case (if open) is told. */
  private async countRepeats(m: EntityManager, items: RoutedException[], plans: Plan[], now: Date, result: IntakeResult) {
    const stored = new Set(result.exceptionIds);
    const adds = new Map<string, { n: number; messages: string[] }>();
    items.forEach((it, i) => {
      const target = plans[i].repeatOf;
      if (!target) return;
      result.repeats.push({ exceptionId: target, messageId: it.messageId });
      if (stored.has(target)) return; // an earlier exception of this batch: counted in its row already
      const a = adds.get(target) ?? { n: 0, messages: [] };
      a.n++;
      a.messages.push(it.messageId);
      adds.set(target, a);
    });
    const rows = await addOccurrences(m, [...adds].map(([id, a]) => ({ id, n: a.n })), now);
    for (const r of rows) {
      const a = adds.get(r.id)!;
      result.audit.push({ actor: SYSTEM_ACTOR, entityType: 'exception', entityId: r.id, action: 'exception.repeated', before: { occurrences: r.occurrences - a.n }, after: { occurrences: r.occurrences, messageIds: a.messages } });
      if (!r.case_id) continue;
      const [c] = returnedRows<CaseRow>(
        await m.query(
          `UPDATE cases SET updated_at = $2 WHERE id = $1 RETURNING id, correlation_key, owner_team, code, severity, site, business_unit, reopen_count`,
          [r.case_id, now],
        ),
      );
      if (c) this.noteCase(result, c, 'case.updated', { repeatedException: r.id, occurrences: r.occurrences });
    }
  }

  /** Audit entry and outbox event for a case change made by the noise controls. */
  private noteCase(result: IntakeResult, r: CaseRow, type: 'case.reopened' | 'case.resolved' | 'case.updated', after: Record<string, unknown>, audit = true) {
    if (type === 'case.resolved') result.casesResolved.push(r.id);
    if (audit) result.audit.push({ actor: SYSTEM_ACTOR, entityType: 'case', entityId: r.id, action: type, after });
    result.events.push({
      type,
      caseId: r.id,
      entityType: 'case',
      entityId: r.id,
      facets: { team: r.owner_team, code: r.code, severity: r.severity, site: r.site, businessUnit: r.business_unit },
      payload: { case: { id: r.id, correlationKey: r.correlation_key, ownerTeam: r.owner_team, severity: r.severity, code: r.code }, change: after },
    });
  }

  /** Events and audit entries of the cases the upsert opened or joined; returns case id by key. */
  private noteCases(rows: UpsertedCase[], groups: CaseGroup[], result: IntakeResult): Map<string, string> {
    const byKey = new Map<string, string>();
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
        result.casesOpened.push({ id: r.id, team: r.owner_team, opener: g.first, title: (g.incident ?? e.title).slice(0, 200), severity: r.severity });
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

/** Case columns of the batch's groups (sorted by key: every worker takes the unique index's locks in the same order, no deadlocks). */
function caseColumns(groups: CaseGroup[]): CaseColumns {
  return {
    id: groups.map(() => uuidv7()),
    key: groups.map((g) => g.key),
    title: groups.map((g) => (g.incident ?? g.first.exception.title).slice(0, 200)),
    kind: groups.map((g) => (g.incident ? 'incident' : 'case')),
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
    extraTeams: groups.map((g) => JSON.stringify(g.first.decision.extraTeams ?? [])),
  };
}

function explanation(d: RoutingDecision) {
  return { policy: d.policy, ruleId: d.ruleId, reason: d.reason, conditions: d.explanation.conditions, skipped: d.explanation.skipped, ...(d.extraTeams?.length ? { extraTeams: d.extraTeams } : {}) };
}

import { Injectable, NotFoundException, UnprocessableEntityException, BadRequestException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { v7 as uuidv7 } from 'uuid';
import type { DataSource } from 'typeorm';
import { completeDraft } from '../canonical/exception-draft.js';
import type { CanonicalException } from '../canonical/exception.schema.js';
import { ActiveArtifacts } from '../mapping/active-artifacts.service.js';
import { ArtifactRegistry } from '../mapping/artifact-registry.service.js';
import { PolicyExpressionError } from './compiled-policy.js';
import { OverlayRefused } from './policy-overlay.js';
import { PolicyEngine, Router, type RoutingDecision } from './router.service.js';
import { isOverlay, parsePolicyDocument, type PolicyOverlay, type RoutingPolicy } from './routing-policy.js';

export interface SimulationRequest {
  policy?: unknown;
  exceptions?: Record<string, unknown>[];
  days?: number;
  limit: number;
}

export interface SimulatedDecision {
  exceptionId: string | null;
  code: string;
  correlationKey: string;
  site: string | null;
  businessUnit: string | null;
  /**
   * The severity the candidate was given: a sample's own, or a stored exception's severity as its source
   * reported it (`reported`). Stored exceptions recorded before the hub kept that have only the routed
   * severity (`routed`), which a severity-conditioned rule may read differently.
   */
  input: { severity: string; from: 'sample' | 'reported' | 'routed' };
  decision: RoutingDecision;
  /** What the policy in force decides for the same exception, and whether the candidate differs. */
  inForce: { team: string; severity: string; ruleId: string | null; policy: RoutingDecision['policy'] };
  changed: boolean;
}

/**
 * Routes sample or stored exceptions through a candidate policy version and reports the decisions.
 * Writes nothing: stored exceptions are read in a READ ONLY transaction and no case logic runs.
 */
@Injectable()
export class PolicySimulation {
  constructor(
    private readonly router: Router,
    private readonly registry: ArtifactRegistry,
    private readonly active: ActiveArtifacts,
    @InjectDataSource() private readonly ds: DataSource,
  ) {}

  async simulate(id: string, version: string, req: SimulationRequest) {
    // The baselines are the versions in force, as another process may just have activated them.
    await this.active.sync();
    const engine = await this.engineFor(id, version, req.policy);
    const samples = req.exceptions
      ? req.exceptions.map((d, i) => ({ id: null, exception: this.complete(d, i), from: 'sample' as const }))
      : await this.stored(req.days!, req.limit);
    const decisions: SimulatedDecision[] = [];
    for (const s of samples) {
      const [decision, inForce] = await Promise.all([engine.decide(s.exception), this.router.decide(s.exception)]);
      decisions.push({
        exceptionId: s.id,
        code: s.exception.code,
        correlationKey: s.exception.correlationKey,
        site: s.exception.site ?? null,
        businessUnit: s.exception.businessUnit ?? null,
        input: { severity: s.exception.severity, from: s.from },
        decision,
        inForce: { team: inForce.team, severity: inForce.severity, ruleId: inForce.ruleId, policy: inForce.policy },
        changed: inForce.team !== decision.team || inForce.severity !== decision.severity || inForce.opensCase !== decision.opensCase,
      });
    }
    const count = (f: (d: SimulatedDecision) => string) => decisions.reduce<Record<string, number>>((acc, d) => ((acc[f(d)] = (acc[f(d)] ?? 0) + 1), acc), {});
    return {
      policy: { id, version, overlays: engine.overlays.map((o) => `${o.overlay.id}@${o.overlay.version}`) },
      count: decisions.length,
      summary: {
        changed: decisions.filter((d) => d.changed).length,
        byTeam: count((d) => d.decision.team),
        byRule: count((d) => d.decision.ruleId ?? '(fallback)'),
        opensCase: decisions.filter((d) => d.decision.opensCase).length,
      },
      decisions,
    };
  }

  /**
   * The candidate: the body's document, or a published version from the artifact registry (where the
   * folders and POST /v1/policies/{id}/versions both publish). It runs with the versions in force
   * around it: an enterprise candidate under the activated overlays, an overlay on top of the
   * activated version of the policy it extends, next to the other activated overlays.
   */
  private async engineFor(id: string, version: string, body: unknown): Promise<PolicyEngine> {
    let doc: RoutingPolicy | PolicyOverlay;
    if (body !== undefined) {
      const parsed = parsePolicyDocument(body);
      if ('error' in parsed) throw new UnprocessableEntityException(`policy: ${parsed.error}`);
      doc = 'policy' in parsed ? parsed.policy : parsed.overlay;
      if (doc.id !== id || doc.version !== version) throw new BadRequestException(`policy: id/version ${doc.id}@${doc.version} must match the path (${id}@${version})`);
    } else {
      const found = await this.registry.compiled('policy', id, version);
      if (!found) throw new NotFoundException(`no published policy ${id}@${version}; publish it (POST /v1/policies/${id}/versions) or give the candidate as "policy" in the body`);
      doc = found;
    }
    const overlaysInForce = this.active.overlays();
    try {
      if ('extends' in doc) {
        const base = this.active.policy(doc.extends);
        if (!base || isOverlay(base)) throw new UnprocessableEntityException(`overlay ${id}@${version} extends "${doc.extends}", which is not a policy in force`);
        return PolicyEngine.build(base as RoutingPolicy, [...overlaysInForce.filter((o) => o.id !== doc.id), doc as PolicyOverlay]);
      }
      return PolicyEngine.build(doc, overlaysInForce);
    } catch (e) {
      if (e instanceof OverlayRefused || e instanceof PolicyExpressionError) throw new UnprocessableEntityException(e.message);
      throw e;
    }
  }

  private complete(draft: Record<string, unknown>, i: number): CanonicalException {
    const r = completeDraft(draft, {
      system: 'simulation', connectorId: String(draft.connectorId ?? 'simulation'), connectorType: 'simulation', messageId: uuidv7(),
      documentType: 'sample', testMode: false, receivedAt: new Date(), mapping: { id: 'simulation', version: '0.0.0' },
    });
    if (!r.ok) throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: `exceptions.${i}: ${r.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, problems: r.problems });
    return r.exception;
  }

  /**
   * Stored exceptions as they arrived: `payload` carries the severity routing gave them, so the
   * candidate gets `reported_severity` (what the source said) instead, where it was kept.
   */
  private async stored(days: number, limit: number): Promise<{ id: string; exception: CanonicalException; from: 'reported' | 'routed' }[]> {
    return this.ds.transaction(async (m) => {
      await m.query('SET TRANSACTION READ ONLY');
      const rows: { id: string; payload: CanonicalException; reported_severity: CanonicalException['severity'] | null }[] = await m.query(
        `SELECT id, payload, reported_severity FROM exceptions WHERE detected_at > now() - make_interval(days => $1) ORDER BY detected_at DESC LIMIT $2`,
        [days, limit],
      );
      return rows.map((r) =>
        r.reported_severity
          ? { id: r.id, exception: { ...r.payload, severity: r.reported_severity }, from: 'reported' as const }
          : { id: r.id, exception: r.payload, from: 'routed' as const },
      );
    });
  }
}

import { Injectable, NotFoundException, UnprocessableEntityException, BadRequestException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { v7 as uuidv7 } from 'uuid';
import type { DataSource } from 'typeorm';
import { completeDraft } from '../canonical/exception-draft.js';
import type { CanonicalException } from '../canonical/exception.schema.js';
import { PolicyExpressionError } from './compiled-policy.js';
import { OverlayRefused } from './policy-overlay.js';
import { PolicyEngine, Router, type RoutingDecision } from './router.service.js';
import { parsePolicyDocument, type PolicyOverlay, type RoutingPolicy } from './routing-policy.js';

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
    @InjectDataSource() private readonly ds: DataSource,
  ) {}

  async simulate(id: string, version: string, req: SimulationRequest) {
    const engine = this.engineFor(id, version, req.policy);
    const samples = req.exceptions ? req.exceptions.map((d, i) => ({ id: null, exception: this.complete(d, i) })) : await this.stored(req.days!, req.limit);
    const decisions: SimulatedDecision[] = [];
    for (const s of samples) {
      const [decision, inForce] = await Promise.all([engine.decide(s.exception), this.router.decide(s.exception)]);
      decisions.push({
        exceptionId: s.id,
        code: s.exception.code,
        correlationKey: s.exception.correlationKey,
        site: s.exception.site ?? null,
        businessUnit: s.exception.businessUnit ?? null,
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

  /** The candidate: the body's document, or policies/<id>/<version>; an overlay runs on top of its enterprise policy in force. */
  private engineFor(id: string, version: string, body: unknown): PolicyEngine {
    const files = this.router.files();
    let doc: RoutingPolicy | PolicyOverlay;
    if (body !== undefined) {
      const parsed = parsePolicyDocument(body);
      if ('error' in parsed) throw new UnprocessableEntityException(`policy: ${parsed.error}`);
      doc = 'policy' in parsed ? parsed.policy : parsed.overlay;
      if (doc.id !== id || doc.version !== version) throw new BadRequestException(`policy: id/version ${doc.id}@${doc.version} must match the path (${id}@${version})`);
    } else {
      const found = files.all.get(`${id}@${version}`);
      if (!found) throw new NotFoundException(`no policy ${id}@${version} under policies/; give the candidate as "policy" in the body`);
      doc = found;
    }
    try {
      if ('extends' in doc) {
        const base = files.policies.get(doc.extends);
        if (!base) throw new UnprocessableEntityException(`overlay ${id}@${version} extends "${doc.extends}", which is not a loaded policy`);
        const others = [...files.overlays.values()].filter((o) => o.id !== doc.id);
        return PolicyEngine.build(base, [...others, doc as PolicyOverlay]);
      }
      return PolicyEngine.build(doc, [...files.overlays.values()]);
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

  private async stored(days: number, limit: number): Promise<{ id: string; exception: CanonicalException }[]> {
    return this.ds.transaction(async (m) => {
      await m.query('SET TRANSACTION READ ONLY');
      const rows: { id: string; payload: CanonicalException }[] = await m.query(
        `SELECT id, payload FROM exceptions WHERE detected_at > now() - make_interval(days => $1) ORDER BY detected_at DESC LIMIT $2`,
        [days, limit],
      );
      return rows.map((r) => ({ id: r.id, exception: r.payload }));
    });
  }
}

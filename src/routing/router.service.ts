import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Logger } from 'pino';
import { ActiveArtifacts } from '../mapping/active-artifacts.service.js';
import type { CanonicalException } from '../canonical/exception.schema.js';
import { ConfigError, HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { HUB_LOGGER } from '../observability/hub-logger.js';
import { PolicyExpressionError } from './compiled-policy.js';
import { DEFAULT_POLICY, PolicyEngine, type RoutingDecision } from './policy-engine.js';
import { OverlayRefused } from './policy-overlay.js';
import { isOverlay, loadPolicySet, type NoiseSettings, type PolicySet, type RoutingPolicy } from './routing-policy.js';

// The engine lives in policy-engine.ts (the activation check in src/mapping builds it too); re-exported for existing callers.
export { DEFAULT_POLICY, PolicyEngine, scopeOf, type RoutingDecision } from './policy-engine.js';

/** Decides owner team and severity for an exception from the routing policy and its overlays; explains every decision. */
@Injectable()
export class Router {
  private engine?: PolicyEngine;
  private set?: PolicySet;
  /** The engine for the versions in force (ActiveArtifacts), rebuilt when an activation changes them. */
  private activeEngine?: { key: string; engine: PolicyEngine };
  /** The last combination in force that did not build (logged once; the engine before it stays in use). */
  private unbuildable?: string;

  constructor(
    @Inject(HUB_CONFIG) private readonly cfg: HubConfig,
    /** Published versions and activations (src/mapping). Without it (unit tests) the newest file versions are used. */
    @Optional() private readonly active?: ActiveArtifacts,
    @Optional() @Inject(HUB_LOGGER) private readonly log?: Logger,
  ) {}

  async load(): Promise<RoutingPolicy> {
    const set = await loadPolicySet(this.cfg.policiesDir);
    const p = set.policies.get(DEFAULT_POLICY);
    if (!p) throw new ConfigError(`no policy "${DEFAULT_POLICY}" under HUB_POLICIES_DIR "${this.cfg.policiesDir}"; add policies/default/<version>/policy.json`);
    try {
      this.engine = PolicyEngine.build(p, [...set.overlays.values()]);
    } catch (e) {
      if (e instanceof OverlayRefused || e instanceof PolicyExpressionError) throw new ConfigError(`HUB_POLICIES_DIR "${this.cfg.policiesDir}": ${e.message}`);
      throw e;
    }
    this.set = set;
    return p;
  }

  /** The enterprise policy in force. */
  current(): RoutingPolicy {
    return this.engineOrThrow().enterprise.policy;
  }

  /**
   * The effective policy of a scope: the overlay with this id applied to the enterprise policy in force,
   * or the enterprise policy itself (scope null, or an overlay no longer in force). SLA clocks remember
   * the scope they were planned in and read their calendar here, so an overlay's `slas` and `calendars`
   * hold for its cases from opening to the last alarm.
   */
  policyOfScope(scope: string | null | undefined): RoutingPolicy {
    const e = this.engineOrThrow();
    if (!scope) return e.enterprise.policy;
    return e.overlays.find((o) => o.overlay.id === scope)?.compiled.policy ?? e.enterprise.policy;
  }

  /** Policy files as loaded (every version), for simulation. */
  files(): PolicySet {
    if (!this.set) throw new Error('routing policy not loaded');
    return this.set;
  }

  /** Every team a case may be owned by: the enterprise policy's and its overlays'. */
  teamIds(): Set<string> {
    const e = this.engineOrThrow();
    return new Set([e.enterprise, ...e.overlays.map((o) => o.compiled)].flatMap((c) => c.policy.teams.map((t) => t.id)));
  }

  /** Noise controls of the policy that applies to this exception. */
  noiseFor(e: CanonicalException): NoiseSettings {
    return this.engineOrThrow().policyFor(e).policy.noise;
  }

  decide(e: CanonicalException): Promise<RoutingDecision> {
    return this.engineOrThrow().decide(e);
  }

  private engineOrThrow(): PolicyEngine {
    if (!this.engine) throw new Error('routing policy not loaded');
    const enterprise = this.active?.policy(DEFAULT_POLICY);
    if (!enterprise || isOverlay(enterprise)) return this.engine;
    const overlays = this.active!.overlays();
    const key = [enterprise, ...overlays].map((p) => `${p.id}@${p.version}`).join(',');
    if (this.activeEngine?.key === key) return this.activeEngine.engine;
    if (this.unbuildable !== key) {
      try {
        this.activeEngine = { key, engine: PolicyEngine.build(enterprise as RoutingPolicy, overlays) };
        this.unbuildable = undefined;
        return this.activeEngine.engine;
      } catch (e) {
        // The API refuses such an activation before it commits (ActiveArtifacts.activate); a process can still
        // meet one (other folder versions than the api process, an edited table). It keeps deciding with the
        // engine it has, and says so once per combination rather than on every decision.
        this.unbuildable = key;
        const kept = this.activeEngine?.engine ?? this.engine;
        const keptVersions = [kept.enterprise.policy, ...kept.overlays.map((o) => o.overlay)].map((p) => `${p.id}@${p.version}`).join(',');
        const why = (e as Error).message;
        this.log?.error({ inForce: key, kept: keptVersions }, `routing policies in force (${key}) do not build, still routing with ${keptVersions}: ${why}`);
      }
    }
    return this.activeEngine?.engine ?? this.engine;
  }
}

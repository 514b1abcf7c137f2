import { PolicyExpressionError } from '../routing/compiled-policy.js';
import { PolicyEngine } from '../routing/policy-engine.js';
import { OverlayRefused } from '../routing/policy-overlay.js';
import { isOverlay, type PolicyOverlay, type RoutingPolicy } from '../routing/routing-policy.js';
import { ArtifactProblem, type PolicyDocument } from './artifact-registry.service.js';

/**
 * Refuses (422) to put `next` in force when the policies in force would then not build: the enterprise
 * policy `next` is or extends, with every overlay in force, built as the Router builds it (each overlay
 * changes only what that enterprise version marks overridable, no site or business unit claimed twice,
 * expressions compile). Without this an activation answered 200 while every process kept routing with
 * the engine it had. An overlay of an enterprise policy with nothing in force decides nothing: allowed,
 * and checked when that enterprise policy is activated.
 */
export function requireBuildsWith(inForce: ReadonlyMap<string, PolicyDocument>, next: PolicyDocument, verb: 'activate' | 'roll back to'): void {
  const after = new Map(inForce).set(next.id, next);
  const enterprise = after.get(isOverlay(next) ? (next as PolicyOverlay).extends : next.id);
  if (!enterprise || isOverlay(enterprise)) return;
  const overlays = [...after.values()].filter((p): p is PolicyOverlay => isOverlay(p));
  try {
    PolicyEngine.build(enterprise as RoutingPolicy, overlays);
  } catch (e) {
    if (!(e instanceof OverlayRefused || e instanceof PolicyExpressionError)) throw e;
    throw new ArtifactProblem(422, `cannot ${verb} policy ${next.id}@${next.version}; the policies in force would not build: ${e.message}`);
  }
}

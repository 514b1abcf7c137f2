import { TAXONOMY, isExceptionCode, type ExceptionCode } from './taxonomy.js';
import { REFERENCE_KEYS, validateException, type CanonicalException, type ValidationProblem } from './exception.schema.js';

/** Where an exception came from; filled in by the pipeline, never trusted from a mapping. */
export interface SourceContext {
  system: string;
  connectorId: string;
  connectorType: string;
  messageId: string;
  documentType: string;
  testMode: boolean;
  senderEventId?: string;
  receivedAt: Date;
  mapping: { id: string; version: string };
}

export type DraftOutcome =
  | { ok: true; exception: CanonicalException }
  | { ok: false; exception: CanonicalException; problems: ValidationProblem[] };

/**
 * Completes a mapping's draft with what the hub knows (source, defaults from the taxonomy,
 * a correlation key) and validates it. An invalid draft is never dropped: it becomes an
 * INTEGRATION.MAPPING_FAILED exception that carries the problems and the message reference.
 */
export function completeDraft(draft: unknown, ctx: SourceContext): DraftOutcome {
  const d = (draft && typeof draft === 'object' ? draft : {}) as Record<string, unknown>;
  const code = d.code;
  const def = isExceptionCode(code) ? TAXONOMY[code] : undefined;
  const references = normalizeReferences(d.references);
  const candidate: Record<string, unknown> = {
    ...d,
    category: d.category ?? def?.category,
    severity: d.severity ?? def?.severity,
    title: d.title ?? def?.title,
    source: sourceOf(ctx),
    references,
    occurredAt: toIso(d.occurredAt) ?? ctx.receivedAt.toISOString(),
    detectedAt: ctx.receivedAt.toISOString(),
    correlationKey: d.correlationKey ?? defaultCorrelationKey(String(code), references, ctx),
    mapping: ctx.mapping,
    attributes: d.attributes ?? {},
  };
  const v = validateException(candidate);
  if (v.ok) return { ok: true, exception: v.value };
  return {
    ok: false,
    problems: v.problems,
    exception: mappingFailed(ctx, 'output failed canonical validation', { problems: v.problems, output: clip(draft) }),
  };
}

/** The INTEGRATION.MAPPING_FAILED exception for a message whose mapping could not produce valid output. */
export function mappingFailed(ctx: SourceContext, reason: string, details: Record<string, unknown>): CanonicalException {
  return integrationException('INTEGRATION.MAPPING_FAILED', ctx, {
    title: `Mapping ${ctx.mapping.id}@${ctx.mapping.version} failed: ${reason}`.slice(0, 200),
    correlationKey: `mapping-failed:${ctx.connectorId}:${ctx.mapping.id}@${ctx.mapping.version}`,
    attributes: { reason, ...details },
  });
}

/** An INTEGRATION.* exception raised by the hub itself (malformed payload, connector down, ...). */
export function integrationException(
  code: ExceptionCode,
  ctx: SourceContext,
  extra: { title?: string; description?: string; correlationKey: string; attributes: Record<string, unknown> },
): CanonicalException {
  const def = TAXONOMY[code];
  return {
    code,
    category: def.category,
    severity: def.severity,
    title: (extra.title ?? def.title).slice(0, 200),
    ...(extra.description ? { description: extra.description.slice(0, 4000) } : {}),
    source: sourceOf(ctx),
    references: {},
    occurredAt: ctx.receivedAt.toISOString(),
    detectedAt: ctx.receivedAt.toISOString(),
    correlationKey: extra.correlationKey.slice(0, 256),
    mapping: ctx.mapping,
    attributes: extra.attributes,
  };
}

function sourceOf(ctx: SourceContext): CanonicalException['source'] {
  return {
    system: ctx.system,
    connectorId: ctx.connectorId,
    connectorType: ctx.connectorType,
    messageId: ctx.messageId,
    documentType: ctx.documentType,
    testMode: ctx.testMode,
    ...(ctx.senderEventId ? { senderEventId: ctx.senderEventId } : {}),
  };
}

function normalizeReferences(raw: unknown): Record<string, string> {
  if (!raw || typeof raw !== 'object') return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (v === undefined || v === null || v === '') continue;
    // Keep unknown keys so validation reports them instead of silently dropping them.
    out[k] = typeof v === 'number' ? String(v) : (v as string);
  }
  return out;
}

// Business references group related exceptions: everything about one order lands in one case.
function defaultCorrelationKey(code: string, refs: Record<string, string>, ctx: SourceContext): string {
  for (const key of ['order', 'po', 'asn', 'invoice', 'shipment'] as const) {
    if (refs[key]) return `${key}:${refs[key]}`;
  }
  const sku = refs.sku ? `:sku:${refs.sku}` : '';
  return `${code}:${ctx.connectorId}${sku || ':' + ctx.messageId}`;
}

function toIso(v: unknown): string | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? (typeof v === 'string' ? v : undefined) : d.toISOString();
}

function clip(v: unknown): unknown {
  const s = JSON.stringify(v) ?? 'undefined';
  return s.length <= 4000 ? v : s.slice(0, 4000) + '…';
}

export { REFERENCE_KEYS };

import { z } from 'zod';
import { EXCEPTION_CODES, CATEGORIES, SEVERITIES, TAXONOMY, type ExceptionCode } from './taxonomy.js';

const ref = z.string().trim().min(1).max(128);
const isoDate = z.iso.datetime({ offset: true });

export const REFERENCE_KEYS = ['order', 'po', 'asn', 'invoice', 'shipment', 'customer', 'supplier', 'sku', 'line'] as const;

/** Canonical exception model v1. Every exception is validated against this before it is stored. */
export const CanonicalExceptionSchema = z
  .object({
    code: z.enum(EXCEPTION_CODES),
    category: z.enum(CATEGORIES),
    severity: z.enum(SEVERITIES),
    title: z.string().min(1).max(200),
    description: z.string().max(4000).optional(),
    source: z.strictObject({
      system: z.string().min(1).max(64),
      connectorId: z.string().min(1).max(64),
      connectorType: z.string().min(1).max(64),
      messageId: z.uuid(),
      documentType: z.string().min(1).max(64),
      testMode: z.boolean(),
      senderEventId: z.string().max(256).optional(),
    }),
    businessUnit: z.string().min(1).max(64).optional(),
    site: z.string().min(1).max(64).optional(),
    references: z.strictObject(Object.fromEntries(REFERENCE_KEYS.map((k) => [k, ref.optional()])) as Record<
      (typeof REFERENCE_KEYS)[number],
      z.ZodOptional<typeof ref>
    >),
    customerTier: z.string().min(1).max(32).optional(),
    quantities: z
      .strictObject({
        expected: z.number().finite(),
        actual: z.number().finite(),
        unit: z.string().min(1).max(16),
      })
      .optional(),
    amountAtRisk: z
      .strictObject({
        amount: z.number().finite().nonnegative(),
        currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD'),
      })
      .optional(),
    /** Enrichment routing rules may test (all optional): value of the whole order, stock criticality class, compliance flags. */
    orderValue: z
      .strictObject({ amount: z.number().finite().nonnegative(), currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD') })
      .optional(),
    inventoryCriticality: z.string().min(1).max(32).optional(),
    complianceFlags: z.array(z.string().min(1).max(64)).max(32).optional(),
    occurredAt: isoDate,
    detectedAt: isoDate,
    correlationKey: z.string().min(1).max(256),
    mapping: z.strictObject({ id: z.string().min(1).max(128), version: z.string().min(1).max(32) }),
    attributes: z.record(z.string(), z.unknown()).default({}),
  })
  .strict()
  .superRefine((exc, ctx) => {
    const def = TAXONOMY[exc.code as ExceptionCode];
    if (exc.category !== def.category) {
      ctx.addIssue({ code: 'custom', path: ['category'], message: `must be ${def.category} for ${exc.code}` });
    }
    for (const required of def.required) {
      const options = required.split('|');
      if (options.every((p) => readPath(exc, p) === undefined)) {
        const message = options.length > 1 ? `is required for ${exc.code} (or ${options.slice(1).join(', ')})` : `is required for ${exc.code}`;
        ctx.addIssue({ code: 'custom', path: options[0].split('.'), message });
      }
    }
  });

export type CanonicalException = z.infer<typeof CanonicalExceptionSchema>;

export function readPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur === null ? undefined : cur;
}

export interface ValidationProblem {
  path: string;
  message: string;
}

export function validateException(
  candidate: unknown,
): { ok: true; value: CanonicalException } | { ok: false; problems: ValidationProblem[] } {
  const r = CanonicalExceptionSchema.safeParse(candidate);
  if (r.success) return { ok: true, value: r.data };
  return {
    ok: false,
    problems: r.error.issues.slice(0, 50).map((i) => ({ path: i.path.join('.') || '(root)', message: i.message })),
  };
}

/**
 * The published JSON Schema. zod exports the structure; the per-code required
 * attributes are refinements, so they are added as if/then clauses from the taxonomy.
 */
export function exceptionJsonSchema(): Record<string, unknown> {
  const base = z.toJSONSchema(CanonicalExceptionSchema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  const allOf = EXCEPTION_CODES.map((code) => {
    const def = TAXONOMY[code];
    return {
      if: { properties: { code: { const: code } }, required: ['code'] },
      then: {
        properties: { category: { const: def.category }, ...requiredShape(def.required.filter((p) => !p.includes('|'))) },
        required: ['category', ...new Set(def.required.filter((p) => !p.includes('|')).map((p) => p.split('.')[0]))],
        ...alternatives(def.required.filter((p) => p.includes('|'))),
      },
    };
  });
  return {
    $id: 'https://exception-hub.dev/schema/exception/v1.json',
    title: 'Canonical exception v1',
    ...base,
    allOf,
    'x-taxonomy': TAXONOMY,
  };
}

/** `a.b|a.c` becomes anyOf: [{ a requires b }, { a requires c }]. */
function alternatives(paths: string[]): Record<string, unknown> {
  if (!paths.length) return {};
  return { allOf: paths.map((p) => ({ anyOf: p.split('|').map((alt) => ({ properties: requiredShape([alt]), required: [alt.split('.')[0]] })) })) };
}

function requiredShape(paths: string[]): Record<string, unknown> {
  const nested: Record<string, string[]> = {};
  for (const p of paths) {
    const [head, ...rest] = p.split('.');
    if (rest.length) (nested[head] ??= []).push(rest.join('.'));
  }
  return Object.fromEntries(Object.entries(nested).map(([k, req]) => [k, { required: req }]));
}

import { completeDraft, type SourceContext } from './exception-draft.js';
import { exceptionJsonSchema, validateException } from './exception.schema.js';
import { EXCEPTION_CODES, TAXONOMY } from './taxonomy.js';

const ctx: SourceContext = {
  system: 'reno-wms',
  connectorId: 'reno-wms',
  connectorType: 'wms-webhook',
  messageId: '01a21cd0-0000-7000-8000-000000000001',
  documentType: 'pick.shortfall',
  testMode: false,
  receivedAt: new Date('2026-11-27T10:00:00Z'),
  mapping: { id: 'wms-webhook', version: '1.0.0' },
};

describe('canonical exception model v1', () => {
  it('has every code the hub promises, each with a category matching its prefix', () => {
    for (const code of ['ORDER.CREDIT_HOLD', 'WAREHOUSE.PICK_SHORTFALL', 'PROCUREMENT.ASN_MISMATCH', 'FINANCE.TAX_ERROR', 'LOGISTICS.SHIPMENT_HOLD', 'INTEGRATION.DELIVERY_FAILED', 'MASTERDATA.INCOMPLETE_CUSTOMER']) {
      expect(EXCEPTION_CODES).toContain(code);
    }
    for (const code of EXCEPTION_CODES) expect(code.startsWith(TAXONOMY[code].category + '.')).toBe(true);
  });

  it('completes a draft from the taxonomy and derives the correlation key from the order', () => {
    const out = completeDraft({ code: 'WAREHOUSE.PICK_SHORTFALL', references: { order: 'SO-1', sku: 'A', line: 3 }, quantities: { expected: 2, actual: 1, unit: 'EA' } }, ctx);
    expect(out.ok).toBe(true);
    expect(out.exception).toMatchObject({
      category: 'WAREHOUSE',
      severity: 'critical',
      title: 'Pick shortfall',
      correlationKey: 'order:SO-1',
      references: { order: 'SO-1', sku: 'A', line: '3' },
      detectedAt: '2026-11-27T10:00:00.000Z',
      mapping: ctx.mapping,
      source: { messageId: ctx.messageId, testMode: false },
    });
  });

  it('turns an invalid draft into INTEGRATION.MAPPING_FAILED carrying every problem', () => {
    const out = completeDraft({ code: 'WAREHOUSE.PICK_SHORTFALL', category: 'FINANCE', references: { sku: 'A', warehouse: 'X' }, amountAtRisk: { amount: -1, currency: 'usd' } }, ctx);
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out.exception.code).toBe('INTEGRATION.MAPPING_FAILED');
    expect(out.exception.correlationKey).toBe('mapping-failed:reno-wms:wms-webhook@1.0.0');
    const paths = out.problems.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['category', 'references.order', 'quantities', 'amountAtRisk.amount', 'amountAtRisk.currency', 'references']));
    expect(validateException(out.exception).ok).toBe(true);
  });

  it('rejects unknown codes and unparseable dates', () => {
    const r = completeDraft({ code: 'WAREHOUSE.GREMLINS', occurredAt: 'yesterday' }, ctx);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.map((p) => p.path)).toEqual(expect.arrayContaining(['code', 'occurredAt']));
  });

  it('publishes a JSON Schema with one if/then clause per code', () => {
    const s = exceptionJsonSchema() as { allOf: unknown[]; properties: Record<string, unknown> };
    expect(s.allOf).toHaveLength(EXCEPTION_CODES.length);
    expect(Object.keys(s.properties)).toEqual(expect.arrayContaining(['code', 'source', 'references', 'quantities', 'amountAtRisk', 'correlationKey', 'mapping']));
  });
});

import { completeDraft } from '../canonical/exception-draft.js';
import type { CanonicalException } from '../canonical/exception.schema.js';
import { fingerprintOf } from './noise-control.js';

/** A pick shortfall as the WMS mapping would produce it, with overrides for the draft and the source. */
function shortfall(draft: Record<string, unknown> = {}, source: { connectorId?: string; testMode?: boolean } = {}): CanonicalException {
  const r = completeDraft(
    {
      code: 'WAREHOUSE.PICK_SHORTFALL', title: 'Pick shortfall on order SO-1: 6 EA of HX-2210 not picked',
      references: { order: 'SO-1', sku: 'HX-2210', line: '1' }, quantities: { expected: 10, actual: 4, unit: 'EA' },
      amountAtRisk: { amount: 75, currency: 'USD' }, ...draft,
    },
    {
      system: 'wms', connectorId: source.connectorId ?? 'wms-east', connectorType: 'wms-webhook', messageId: '0190aaaa-0000-7000-8000-000000000001',
      documentType: 'pick.shortfall', testMode: source.testMode ?? false, receivedAt: new Date('2026-12-07T15:00:00Z'), mapping: { id: 'wms-webhook', version: '1.1.0' },
    },
  );
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.exception;
}

describe('identical repeat fingerprint: the same report (code, references, figures) from the same source', () => {
  const base = fingerprintOf(shortfall())!;

  it('ignores when and where it was seen, and the order of references', () => {
    expect(base).toMatch(/^[0-9a-f]{40}$/);
    expect(fingerprintOf(shortfall({ occurredAt: '2026-12-07T16:00:00Z', site: 'RNO1', attributes: { location: 'B-2' } }))).toBe(base);
    expect(fingerprintOf(shortfall({ references: { line: '1', sku: 'HX-2210', order: 'SO-1' } }))).toBe(base);
  });

  it('tells apart a report whose figures changed (news, not a repeat)', () => {
    expect(fingerprintOf(shortfall({ quantities: { expected: 10, actual: 2, unit: 'EA' } }))).not.toBe(base);
    expect(fingerprintOf(shortfall({ amountAtRisk: { amount: 100, currency: 'USD' } }))).not.toBe(base);
    expect(fingerprintOf(shortfall({ title: 'Pick shortfall on order SO-1: 8 EA of HX-2210 not picked' }))).not.toBe(base);
  });

  it('tells apart another code, other references, another connector, test traffic and another case key', () => {
    expect(fingerprintOf(shortfall({ code: 'WAREHOUSE.DAMAGED_GOODS' }))).not.toBe(base);
    expect(fingerprintOf(shortfall({ references: { order: 'SO-1', sku: 'HX-9999', line: '1' } }))).not.toBe(base);
    expect(fingerprintOf(shortfall({ references: { order: 'SO-1', sku: 'HX-2210' } }))).not.toBe(base);
    expect(fingerprintOf(shortfall({}, { connectorId: 'wms-west' }))).not.toBe(base);
    expect(fingerprintOf(shortfall({}, { testMode: true }))).not.toBe(base);
    expect(fingerprintOf(shortfall({ correlationKey: 'wave:W-7' }))).not.toBe(base);
  });

  it('never folds reports without references', () => {
    expect(fingerprintOf(shortfall({ code: 'INTEGRATION.MALFORMED_PAYLOAD', references: {}, quantities: undefined, amountAtRisk: undefined }))).toBeNull();
  });
});

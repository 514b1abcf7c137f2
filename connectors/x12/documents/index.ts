import type { Segment } from '../tokenizer.js';
import { SET_DOCUMENT_TYPES, type BusinessDocument } from '../../../src/canonical/business-documents.js';
import { x12Source, type EnvelopeInput, type SetInput } from './common.js';
import { buildFunctionalAck } from './functional-ack.js';
import { buildInventoryAdjustment } from './inventory-adjustment.js';
import { buildInventoryAdvice } from './inventory-advice.js';
import { buildInvoice } from './invoice.js';
import { buildPoAcknowledgment } from './po-ack.js';
import { buildPurchaseOrder } from './purchase-order.js';
import { buildShipNotice } from './ship-notice.js';
import { buildShipmentStatus } from './shipment-status.js';
import { buildTechnicalAck } from './technical-ack.js';
import { buildWarehouseShippingAdvice } from './warehouse-advice.js';
import { buildWarehouseShippingOrder } from './warehouse-order.js';

export type { EnvelopeInput, SetInput } from './common.js';
export { buildTechnicalAck } from './technical-ack.js';

type Builder = (set: SetInput, env: EnvelopeInput) => BusinessDocument;

const BUILDERS: Readonly<Record<string, Builder>> = {
  '850': buildPurchaseOrder,
  '855': buildPoAcknowledgment,
  '856': buildShipNotice,
  '810': buildInvoice,
  '214': buildShipmentStatus,
  '940': buildWarehouseShippingOrder,
  '945': buildWarehouseShippingAdvice,
  '947': buildInventoryAdjustment,
  '846': buildInventoryAdvice,
  '997': buildFunctionalAck,
  '999': buildFunctionalAck,
  // A TA1 is a segment, not a set: pass it as the only segment of a set with id 'TA1'.
  TA1: (set, env) => buildTechnicalAck(set.segments.find((s: Segment) => s.tag === 'TA1'), env),
};

/** Set IDs (ST01, plus 'TA1') that become business documents. */
export const SUPPORTED_SETS: readonly string[] = Object.keys(BUILDERS);

/**
 * Builds the canonical business document of one transaction set, or undefined when the set ID is not
 * supported. Builders read defensively and do not throw on content; should one fail on input nobody
 * foresaw, the set still yields a document (its envelope data, with the failure in `extra.builderError`)
 * so that it is stored and visible instead of disappearing with an exception.
 */
export function buildDocument(set: SetInput, envelope: EnvelopeInput): BusinessDocument | undefined {
  const id = typeof set.id === 'string' ? set.id.trim() : '';
  if (!Object.hasOwn(BUILDERS, id)) return undefined;
  const build = BUILDERS[id];
  try {
    // PERF: no copy of the set when ST01 needs no trimming (the walker's sets never do).
    return build(set.id === id ? set : { ...set, id }, envelope);
  } catch (err) {
    const type = SET_DOCUMENT_TYPES[id];
    const extra = { builderError: [String(err instanceof Error ? err.message : err).slice(0, 1000)] };
    const x12 = x12Source({ id, controlNumber: set.controlNumber, implementationRef: set.implementationRef, segments: [] }, envelope);
    if (type === 'functional_ack') return { type, schemaVersion: 1, x12, sets: [], errorCodes: [], extra };
    if (type === 'technical_ack') return { type, schemaVersion: 1, x12, extra };
    const base = { schemaVersion: 1 as const, x12, dates: {}, parties: [], poNumbers: [], references: {}, extra };
    switch (type) {
      case 'ship_notice':
        return { type, ...base, hierarchy: [], lines: [] };
      case 'invoice':
        return { type, ...base, charges: [], terms: [], lines: [] };
      default:
        return { type, ...base, lines: [] } as BusinessDocument;
    }
  }
}

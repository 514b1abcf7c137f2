import type { Segment } from '../tokenizer.js';
import type { DocumentOf } from '../../../src/canonical/business-documents.js';
import { applyProductPairs, body, businessFields, newDraft, present, setKey, x12Source, type EnvelopeInput, type SetInput } from './common.js';
import { applyWarehouseTotals } from './transport.js';
import { codeAt, decimalAt, isoDateAt, keyAt, text, uomAt, weightUnitAt } from './values.js';
import { applyUpcCase, readWarehouseHeader, readWarehouseLine, splitWarehouseSet, type WarehouseLine } from './warehouse.js';

type WarehouseAdvice = DocumentOf<'warehouse_shipping_advice'>;

/**
 * W12: 01 shipment/order status (CC complete, CL complete, CP partial - no backorder, BP partial -
 * backordered, ...), 02 quantity ordered, 03 units shipped, 04 quantity difference, 05 unit, 06 UPC
 * case code, 07/08 product ID, 09 warehouse lot, 10-12 weight, qualifier and unit, 17/18 product ID.
 */
function readW12(line: WarehouseLine, s: Segment): void {
  line.status ??= codeAt(s, 1);
  line.quantityOrdered ??= decimalAt(s, 2);
  line.quantityShipped ??= decimalAt(s, 3);
  line.quantityDifference ??= decimalAt(s, 4);
  line.uom ??= uomAt(s, 5);
  applyUpcCase(line, s, 6);
  applyProductPairs(line, s, 7, 8);
  applyProductPairs(line, s, 17, 18);
  line.lot ??= keyAt(s, 9);
  line.weight ??= decimalAt(s, 10);
  line.weightUom ??= weightUnitAt(s, 12);
}

/**
 * 945 Warehouse Shipping Advice. W06: 01 reporting code, 02 depositor order number, 03 ship date,
 * 04 shipment ID, 05 agent shipment ID, 06 PO number. W27 carrier: 01 transport method, 02 SCAC,
 * 03 routing, 04 payment method. N1 loops, N9 references (BM bill of lading, CN PRO), G62 dates;
 * LX loops with one line per W12; W03 totals (units shipped, weight, unit).
 */
export function buildWarehouseShippingAdvice(set: SetInput, env: EnvelopeInput): WarehouseAdvice {
  const d = newDraft();
  const { header, lines, summary } = splitWarehouseSet(body(set), 'W12', ['W03']);
  const carrier: NonNullable<WarehouseAdvice['carrier']> = {};
  const w06 = header.find((s) => s.tag === 'W06');
  setKey(d, 'depositorOrderNumber', keyAt(w06, 2), 'W06.02');
  setKey(d, 'shipmentId', keyAt(w06, 4), 'W06.04');
  setKey(d, 'poNumber', keyAt(w06, 6), 'W06.06');
  readWarehouseHeader(d, header, (s) => {
    if (s === w06) return true;
    if (s.tag === 'W27') {
      carrier.transportMethod ??= codeAt(s, 1);
      carrier.scac ??= keyAt(s, 2);
      carrier.routing ??= text(s, 3);
      carrier.paymentMethod ??= codeAt(s, 4);
    } else return false;
    return true;
  });
  const shipped = isoDateAt(w06, 3);
  if (shipped && !d.dates.shipped) d.dates.shipped = shipped;
  const totals: NonNullable<WarehouseAdvice['totals']> = {};
  const w03 = summary.find((s) => s.tag === 'W03');
  if (w03) applyWarehouseTotals(totals, w03);
  return {
    type: 'warehouse_shipping_advice',
    x12: x12Source(set, env),
    ...businessFields(d),
    documentDate: shipped,
    purpose: codeAt(w06, 1),
    carrier: present(carrier),
    totals: present(totals),
    lines: lines.map((g) => readWarehouseLine(g, 'W12', readW12)),
  };
}

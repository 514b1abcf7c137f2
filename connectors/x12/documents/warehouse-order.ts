import type { Segment } from '../tokenizer.js';
import type { DocumentOf } from '../../../src/canonical/business-documents.js';
import { addExtra, applyProductPairs, body, businessFields, newDraft, present, setKey, x12Source, type EnvelopeInput, type SetInput } from './common.js';
import { applyWarehouseTotals } from './transport.js';
import { codeAt, decimalAt, keyAt, text, uomAt } from './values.js';
import { applyUpcCase, readWarehouseHeader, readWarehouseLine, splitWarehouseSet, type WarehouseLine } from './warehouse.js';

type WarehouseOrder = DocumentOf<'warehouse_shipping_order'>;

/**
 * W01: 01 quantity ordered, 02 unit, 03 UPC case code, product ID pairs 04/05 and 06/07 (and 15/16),
 * 13 warehouse lot number. A W01 with shifted elements (quantity missing, a number where the unit
 * belongs) yields absent values, not wrong ones: the readers refuse what is not of their kind.
 */
function readW01(line: WarehouseLine, s: Segment): void {
  line.quantityOrdered ??= decimalAt(s, 1);
  line.uom ??= uomAt(s, 2);
  applyUpcCase(line, s, 3);
  applyProductPairs(line, s, 4, 7);
  applyProductPairs(line, s, 15, 16);
  line.lot ??= keyAt(s, 13);
}

/**
 * 940 Warehouse Shipping Order. W05: 01 order status (N original, C cancel, R replace), 02 depositor
 * order number, 03 PO number, 05 master reference (kept in extra). W66 carrier: 01 payment method, 02 transport method,
 * 05 routing, 10 SCAC. N1 loops (ST, WH, DE, ...), N9 references, G62 dates; LX/W01 lines; W76 totals.
 */
export function buildWarehouseShippingOrder(set: SetInput, env: EnvelopeInput): WarehouseOrder {
  const d = newDraft();
  const { header, lines, summary } = splitWarehouseSet(body(set), 'W01', ['W76']);
  const carrier: NonNullable<WarehouseOrder['carrier']> = {};
  const w05 = header.find((s) => s.tag === 'W05');
  setKey(d, 'depositorOrderNumber', keyAt(w05, 2), 'W05.02');
  setKey(d, 'poNumber', keyAt(w05, 3), 'W05.03');
  addExtra(d.extra, 'W05.05', keyAt(w05, 5));
  readWarehouseHeader(d, header, (s) => {
    if (s === w05) return true;
    if (s.tag === 'W66') {
      carrier.paymentMethod ??= codeAt(s, 1);
      carrier.transportMethod ??= codeAt(s, 2);
      carrier.routing ??= text(s, 5);
      carrier.scac ??= keyAt(s, 10);
    } else return false;
    return true;
  });
  const totals: NonNullable<WarehouseOrder['totals']> = {};
  const w76 = summary.find((s) => s.tag === 'W76');
  if (w76) applyWarehouseTotals(totals, w76);
  return {
    type: 'warehouse_shipping_order',
    x12: x12Source(set, env),
    ...businessFields(d),
    purpose: codeAt(w05, 1),
    carrier: present(carrier),
    totals: present(totals),
    lines: lines.map((g) => readWarehouseLine(g, 'W01', readW01)),
  };
}

import type { Segment } from '../tokenizer.js';
import type { DocumentOf } from '../../../src/canonical/business-documents.js';
import { addExtra, applyProductPairs, body, businessFields, newDraft, x12Source, type EnvelopeInput, type SetInput } from './common.js';
import { codeAt, decimalAt, isoDateAt, keyAt, uomAt, weightUnitAt } from './values.js';
import { applyUpcCase, readWarehouseHeader, readWarehouseLine, splitWarehouseSet, type WarehouseLine } from './warehouse.js';

type InventoryAdjustment = DocumentOf<'inventory_adjustment'>;

/**
 * W19: 01 quantity or status adjustment reason (element 181: AA physical count, AU damaged in facility,
 * AV damaged in transit, 07 dumped or destroyed, 05 put on hold, 55 taken off hold, AW recall, ...),
 * 02 credit/debit quantity (negative when stock goes down), 03 unit, 04 UPC case code, 05-08 product
 * ID pairs, 09 warehouse lot, 10-12 weight, 16 inventory transaction type, 17/18 product ID.
 */
function readW19(line: WarehouseLine, s: Segment): void {
  line.reasonCode ??= codeAt(s, 1);
  line.quantityAdjusted ??= decimalAt(s, 2);
  line.uom ??= uomAt(s, 3);
  applyUpcCase(line, s, 4);
  applyProductPairs(line, s, 5, 8);
  applyProductPairs(line, s, 17, 18);
  line.lot ??= keyAt(s, 9);
  line.weight ??= decimalAt(s, 10);
  line.weightUom ??= weightUnitAt(s, 12);
  line.transactionType ??= codeAt(s, 16);
  if (decimalAt(s, 13) !== undefined) addExtra(line.extra, 'W19.13', `${decimalAt(s, 13)} ${codeAt(s, 14) ?? ''} ${weightUnitAt(s, 15) ?? ''}`.trim());
}

/**
 * 947 Warehouse Inventory Adjustment Advice. W15: 01 adjustment date, 02 warehouse adjustment number,
 * 03 depositor adjustment number. N1 loops (WH warehouse, DE depositor), N9 references, G62 dates;
 * one line per W19 loop (W19, G69 description, N9 references, ...).
 */
export function buildInventoryAdjustment(set: SetInput, env: EnvelopeInput): InventoryAdjustment {
  const d = newDraft();
  const { header, lines } = splitWarehouseSet(body(set), 'W19', [], false);
  const w15 = header.find((s) => s.tag === 'W15');
  readWarehouseHeader(d, header, (s) => s === w15);
  return {
    type: 'inventory_adjustment',
    x12: x12Source(set, env),
    ...businessFields(d),
    documentDate: isoDateAt(w15, 1),
    adjustmentNumber: keyAt(w15, 2),
    depositorAdjustmentNumber: keyAt(w15, 3),
    purpose: codeAt(w15, 4),
    lines: lines.map((g) => readWarehouseLine(g, 'W19', readW19)),
  };
}

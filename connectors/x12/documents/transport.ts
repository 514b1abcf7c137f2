import type { Segment } from '../tokenizer.js';
import type { DocumentOf } from '../../../src/canonical/business-documents.js';
import { addExtra, type Extra } from './common.js';
import { codeAt, decimalAt, el, keyAt, text, weightUnitAt } from './values.js';

type Carrier = NonNullable<DocumentOf<'ship_notice'>['carrier']>;
type Totals = NonNullable<DocumentOf<'ship_notice'>['totals']>;

/**
 * TD5 carrier routing (850, 855, 856). TD503 is a SCAC only when TD502 says so ('2'); an ID under
 * another qualifier (e.g. '92', assigned by the buyer) is kept in extra as `TD5.<qualifier>`.
 */
export function applyTd5(carrier: Carrier, extra: Extra, s: Segment): void {
  const qualifier = codeAt(s, 2);
  const id = keyAt(s, 3);
  if (qualifier === '2' && id) carrier.scac ??= id;
  else addExtra(extra, `TD5.${qualifier ?? ''}`, id);
  carrier.transportMethod ??= codeAt(s, 4);
  carrier.routing ??= text(s, 5);
}

/** TD3 equipment: type code and initial + number. */
export function applyTd3(carrier: Carrier, s: Segment): void {
  const number = [el(s, 2), el(s, 3)].filter(Boolean).join('');
  carrier.equipment ??= number ? number.slice(0, 128) : undefined;
}

/** TD1 packaging: lading quantity (TD102, packages), weight (TD107) and its unit (TD108). */
export function applyTd1(totals: Totals, s: Segment): void {
  totals.ladingQuantity ??= decimalAt(s, 2);
  totals.weight ??= decimalAt(s, 7);
  totals.weightUom ??= weightUnitAt(s, 8);
}

/** AMT: the first 'TT' (total transaction amount) or '1' (line item total) is the document amount; others to extra. */
export function applyAmount(totals: Totals, extra: Extra, s: Segment): void {
  const qualifier = codeAt(s, 1);
  const amount = decimalAt(s, 2);
  if ((qualifier === 'TT' || qualifier === '1') && amount !== undefined && totals.amount === undefined) totals.amount = amount;
  else addExtra(extra, `AMT.${qualifier ?? ''}`, el(s, 2));
}

/** Quantity / weight / unit triples of the warehouse sets' totals (W03, W76): quantity, weight, unit. */
export function applyWarehouseTotals(totals: Totals, s: Segment): void {
  totals.quantity ??= decimalAt(s, 1);
  totals.weight ??= decimalAt(s, 2);
  totals.weightUom ??= weightUnitAt(s, 3);
}

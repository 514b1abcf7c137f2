import type { Segment } from '../tokenizer.js';
import {
  BUSINESS_DOCUMENT_VERSION,
  type DateName,
  type Dates,
  type LineCore,
  type Party,
  type ReferenceName,
  type References,
  type X12Source,
} from '../../../src/canonical/business-documents.js';
import { readParty } from './parties.js';
import { addExtra, code, codeAt, countAt, decimalAt, el, isoDate, key, keyAt, text, type Extra } from './values.js';

export { addExtra, type Extra } from './values.js';

/** The transaction set as the envelope walker hands it over: ST..SE inclusive. */
export interface SetInput {
  id: string;
  controlNumber: string;
  implementationRef?: string;
  segments: Segment[];
}

/** Envelope context. `group` is absent only for TA1, which travels outside any group. */
export interface EnvelopeInput {
  group?: { version: string; controlNumber: string; senderCode: string; receiverCode: string; functionalId: string };
  interchange: { controlNumber: string; senderId: string; receiverId: string; usage: string; version?: string };
}

/**
 * Where the document came from. `testMode` is true for any usage indicator (ISA15) but 'P': test,
 * information or a missing value all stay out of production flows.
 */
export function x12Source(set: SetInput, env: EnvelopeInput): X12Source {
  const st = set.segments[0]?.tag === 'ST' ? set.segments[0] : undefined;
  return {
    set: set.id,
    version: key(env.group?.version) ?? key(env.interchange.version),
    implementationRef: key(set.implementationRef) ?? keyAt(st, 3),
    controlNumber: key(set.controlNumber) ?? keyAt(st, 2),
    groupControlNumber: key(env.group?.controlNumber),
    functionalId: code(env.group?.functionalId?.trim()),
    interchangeControlNumber: key(env.interchange.controlNumber),
    senderId: key(env.interchange.senderId),
    receiverId: key(env.interchange.receiverId),
    senderCode: key(env.group?.senderCode),
    receiverCode: key(env.group?.receiverCode),
    testMode: env.interchange.usage?.trim().toUpperCase() !== 'P',
  };
}

/** The set's content without its ST and SE. */
export function body(set: SetInput): Segment[] {
  let segs = set.segments;
  if (segs[0]?.tag === 'ST') segs = segs.slice(1);
  if (segs.at(-1)?.tag === 'SE') segs = segs.slice(0, -1);
  return segs;
}

type KeyField = 'poNumber' | 'shipmentId' | 'depositorOrderNumber' | 'invoiceNumber' | 'bolNumber' | 'proNumber';

/** Header state shared by the business documents while a builder reads the set. */
export interface Draft {
  keys: Partial<Record<KeyField, string>>;
  poNumbers: string[];
  poSeen: Set<string>;
  dates: Dates;
  parties: Party[];
  references: References;
  currency?: string;
  extra: Extra;
}

export function newDraft(): Draft {
  return { keys: {}, poNumbers: [], poSeen: new Set(), dates: {}, parties: [], references: {}, extra: {} };
}

/** Sets a key once; a second, different value is kept in `extra` under `source` rather than lost. */
export function setKey(d: Draft, field: KeyField, value: string | undefined, source: string): void {
  const v = key(value);
  if (!v) return;
  if (field === 'poNumber') {
    // PERF: most calls (every order and line of an ASN) take this branch, with a named access: `d.keys[field]`
    // sees every key field at one site and is megamorphic. Every distinct PO is listed; the first is the key.
    if (!d.poSeen.has(v)) {
      d.poSeen.add(v);
      d.poNumbers.push(v);
    }
    if (d.keys.poNumber === undefined) d.keys.poNumber = v;
    return;
  }
  if (d.keys[field] === undefined) d.keys[field] = v;
  else if (d.keys[field] !== v) addExtra(d.extra, source, v);
}

export function setReference(d: Draft, name: ReferenceName, value: string | undefined, source: string): void {
  const v = key(value);
  if (!v) return;
  if (d.references[name] === undefined) d.references[name] = v;
  else if (d.references[name] !== v) addExtra(d.extra, source, v);
}

/** REF/N9/L11 qualifiers (element 128) with a home in the document. */
const REF_TARGETS: Record<string, KeyField | ReferenceName> = {
  PO: 'poNumber', BM: 'bolNumber', CN: 'proNumber', IV: 'invoiceNumber', DP: 'department', IA: 'vendorNumber',
  VN: 'vendorOrderNumber', CO: 'customerOrderNumber', '2I': 'trackingNumber', SI: 'shipperReference',
  PK: 'packingListNumber', MB: 'masterBolNumber', CT: 'contractNumber',
};
const KEY_FIELDS = new Set<string>(['poNumber', 'shipmentId', 'depositorOrderNumber', 'invoiceNumber', 'bolNumber', 'proNumber']);

export function applyRef(d: Draft, tag: string, qualifier: string | undefined, value: string | undefined): void {
  const source = `${tag}.${qualifier ?? ''}`;
  const target = qualifier ? REF_TARGETS[qualifier] : undefined;
  if (!target || !key(value)) return addExtra(d.extra, source, value?.trim());
  if (KEY_FIELDS.has(target)) setKey(d, target as KeyField, value, source);
  else setReference(d, target as ReferenceName, value, source);
}

/** DTM01 (element 374) and G6201 (element 432) qualifiers with a name. */
const DTM_NAMES: Record<string, DateName> = {
  '001': 'cancelAfter', '002': 'requestedDelivery', '003': 'invoice', '004': 'purchaseOrder', '007': 'effective',
  '010': 'requestedShip', '011': 'shipped', '017': 'estimatedDelivery', '018': 'available', '035': 'delivered',
  '036': 'expiration', '037': 'shipNotBefore', '038': 'shipNoLater', '063': 'deliverNoLater', '064': 'deliverNotBefore',
  '067': 'scheduledDelivery', '068': 'scheduledShip', '069': 'promisedDelivery', '079': 'promisedShip', '097': 'transactionCreation',
  '106': 'requiredBy', '208': 'lotExpiration', '371': 'estimatedArrival',
};
const G62_NAMES: Record<string, DateName> = {
  '02': 'requestedDelivery', '04': 'purchaseOrder', '10': 'requestedShip', '11': 'shipped', '17': 'estimatedDelivery',
  '37': 'shipNotBefore', '38': 'shipNoLater', '53': 'deliverNotBefore', '54': 'deliverNoLater',
};

export function dateName(tag: 'DTM' | 'G62', qualifier: string | undefined): DateName | undefined {
  return qualifier ? (tag === 'G62' ? G62_NAMES : DTM_NAMES)[qualifier] : undefined;
}

export function applyDate(dates: Dates, extra: Extra, seg: Segment): void {
  const tag = seg.tag === 'G62' ? 'G62' : 'DTM';
  const qualifier = codeAt(seg, 1);
  const value = el(seg, 2);
  const iso = isoDate(value);
  const name = dateName(tag, qualifier);
  if (name && iso && (dates[name] === undefined || dates[name] === iso)) dates[name] = iso;
  else addExtra(extra, `${tag}.${qualifier ?? ''}`, iso ?? value);
}

type ProductField = 'sku' | 'buyerPart' | 'vendorPart' | 'upc' | 'upcCase' | 'ean' | 'gtin' | 'lot';
/** Product/Service ID qualifiers (element 235) with a home on the line; the rest go to the line's extra. */
const PRODUCT_FIELDS: Record<string, ProductField> = {
  SK: 'sku', BP: 'buyerPart', IN: 'buyerPart', PI: 'buyerPart', VP: 'vendorPart', VN: 'vendorPart', VC: 'vendorPart',
  UP: 'upc', UI: 'upc', UA: 'upcCase', EN: 'ean', UK: 'gtin', LT: 'lot',
};

export type ProductIds = Partial<Record<ProductField, string>> & { extra: Extra };

/** 6 to 14 digits: the shape of a UPC, EAN or GTIN (a check digit is not required of partners). */
function gtinLike(v: string): boolean {
  if (v.length < 6 || v.length > 14) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * target[field], by name. PERF: a switch instead of `target[field]`: with the field varying by call, that keyed
 * access was megamorphic, and it was the dearest line of the 856 builder.
 */
function productField(target: ProductIds, field: ProductField): string | undefined {
  switch (field) {
    case 'sku':
      return target.sku;
    case 'buyerPart':
      return target.buyerPart;
    case 'vendorPart':
      return target.vendorPart;
    case 'upc':
      return target.upc;
    case 'upcCase':
      return target.upcCase;
    case 'ean':
      return target.ean;
    case 'gtin':
      return target.gtin;
    case 'lot':
      return target.lot;
  }
}

function setProductField(target: ProductIds, field: ProductField, v: string): void {
  switch (field) {
    case 'sku':
      target.sku = v;
      return;
    case 'buyerPart':
      target.buyerPart = v;
      return;
    case 'vendorPart':
      target.vendorPart = v;
      return;
    case 'upc':
      target.upc = v;
      return;
    case 'upcCase':
      target.upcCase = v;
      return;
    case 'ean':
      target.ean = v;
      return;
    case 'gtin':
      target.gtin = v;
      return;
    case 'lot':
      target.lot = v;
      return;
  }
}

/** UPC, case UPC, EAN and GTIN must look like one (gtinLike); the other IDs are taken as sent. */
const numericId = (field: ProductField) => field === 'upc' || field === 'upcCase' || field === 'ean' || field === 'gtin';

export function applyProductId(target: ProductIds, tag: string, qualifier: string | undefined, value: string | undefined): void {
  const field = qualifier ? PRODUCT_FIELDS[qualifier] : undefined;
  const v = key(value);
  if (field && v) {
    const current = productField(target, field);
    if (current === v) return;
    if (current === undefined && (!numericId(field) || gtinLike(v))) return setProductField(target, field, v);
  }
  addExtra(target.extra, `${tag}.${qualifier ?? ''}`, value);
}

/** Qualifier/ID pairs of `seg` starting at element `from` (qualifier at odd offsets from there). */
export function applyProductPairs(target: ProductIds, seg: Segment, from: number, to = seg.elements.length - 1): void {
  for (let i = from; i < to; i += 2) {
    const qualifier = el(seg, i);
    const id = el(seg, i + 1);
    if (qualifier || id) applyProductId(target, seg.tag, code(qualifier), id);
  }
}

/**
 * A line with every common field present (undefined until read), so that lines keep one shape while
 * they are filled in. Extend it with Object.assign: an object spread of this many keys makes V8 fall
 * back to slow dictionary objects (measured 100x slower on a 10,000-line ASN). Undefined fields are
 * dropped by JSON and accepted by the schema.
 */
export function newLine(): LineCore {
  return {
    lineNumber: undefined, sku: undefined, buyerPart: undefined, vendorPart: undefined, upc: undefined, upcCase: undefined, ean: undefined,
    gtin: undefined, lot: undefined, description: undefined, poNumber: undefined, quantityOrdered: undefined, quantityAcknowledged: undefined,
    quantityShipped: undefined, quantityInvoiced: undefined, quantityAdjusted: undefined, uom: undefined, unitPrice: undefined,
    priceBasis: undefined, status: undefined, reasonCode: undefined, dates: {}, parties: undefined, extra: {},
  };
}

/**
 * Segments every line loop may carry: descriptions (PID05 free form, G69), references, dates,
 * unit price (CTP03) and N1 loops (ending before `limit`). Returns the index of the next segment to read.
 */
export function readLineSegment(line: LineCore, segs: readonly Segment[], i: number, limit = segs.length): number {
  const s = segs[i];
  switch (s.tag) {
    case 'PID':
      if (el(s, 1) === 'F') line.description ??= text(s, 5);
      break;
    case 'G69':
      line.description ??= text(s, 1);
      break;
    case 'REF':
    case 'N9': {
      const q = codeAt(s, 1);
      if (q === 'LT' || q === 'PO') applyLineKey(line, q === 'LT' ? 'lot' : 'poNumber', `${s.tag}.${q}`, el(s, 2));
      else addExtra(line.extra, `${s.tag}.${q ?? ''}`, text(s, 2));
      break;
    }
    case 'DTM':
    case 'G62':
      applyDate(line.dates, line.extra, s);
      break;
    case 'CTP':
      line.unitPrice ??= decimalAt(s, 3);
      break;
    case 'N1': {
      const { party, end } = readParty(segs, i, limit);
      (line.parties ??= []).push(party);
      return end;
    }
  }
  return i + 1;
}

function applyLineKey(line: LineCore, field: 'lot' | 'poNumber', source: string, value: string | undefined): void {
  const v = key(value);
  if (v && line[field] === undefined) line[field] = v;
  else if (v !== line[field]) addExtra(line.extra, source, value);
}

export interface LineGroup {
  /** The LX opening the loop, when the set numbers its lines with LX. */
  lx?: Segment;
  segments: Segment[];
}

/**
 * Splits a set body into header, line loops and summary. A line starts at any `start` tag; with `lx`,
 * an LX opens a loop that its first `start` segment joins (a later one starts a sibling under the same
 * LX). The summary starts at the first `summary` tag met after the header.
 */
export function splitLines(
  segs: Segment[],
  opts: { start: ReadonlySet<string>; summary: ReadonlySet<string>; lx?: boolean },
): { header: Segment[]; lines: LineGroup[]; summary: Segment[] } {
  const header: Segment[] = [];
  const lines: (LineGroup & { primary: boolean })[] = [];
  const summary: Segment[] = [];
  let current: (LineGroup & { primary: boolean }) | undefined;
  for (const s of segs) {
    if (summary.length || opts.summary.has(s.tag)) summary.push(s);
    else if (opts.lx && s.tag === 'LX') lines.push((current = { lx: s, segments: [], primary: false }));
    else if (opts.start.has(s.tag)) {
      if (current && !current.primary && current.lx) current.primary = true;
      else lines.push((current = { lx: current?.lx, segments: [], primary: true }));
      current.segments.push(s);
    } else (current ? current.segments : header).push(s);
  }
  return { header, lines: lines.map(({ lx, segments }) => ({ lx, segments })), summary };
}

/** The header fields every business document carries, from a finished draft. */
export function businessFields(d: Draft) {
  const poNumber = d.keys.poNumber ?? (d.poNumbers.length === 1 ? d.poNumbers[0] : undefined);
  return {
    schemaVersion: BUSINESS_DOCUMENT_VERSION,
    dates: d.dates,
    parties: d.parties,
    poNumber,
    poNumbers: poNumber && !d.poNumbers.includes(poNumber) ? [poNumber, ...d.poNumbers] : d.poNumbers,
    shipmentId: d.keys.shipmentId,
    depositorOrderNumber: d.keys.depositorOrderNumber,
    invoiceNumber: d.keys.invoiceNumber,
    bolNumber: d.keys.bolNumber,
    proNumber: d.keys.proNumber,
    references: d.references,
    currency: d.currency,
    extra: d.extra,
  };
}

/** Header segments every set may carry (N1 loops, REF/N9/L11, DTM/G62, CUR), before `limit`. Returns the next index. */
export function readCommonHeader(d: Draft, segs: readonly Segment[], i: number, limit = segs.length): number {
  const s = segs[i];
  switch (s.tag) {
    case 'N1': {
      const { party, end } = readParty(segs, i, limit);
      d.parties.push(party);
      return end;
    }
    case 'REF':
    case 'N9':
      applyRef(d, s.tag, codeAt(s, 1), text(s, 2));
      break;
    case 'L11':
      applyRef(d, s.tag, codeAt(s, 2), text(s, 1));
      break;
    case 'DTM':
    case 'G62':
      applyDate(d.dates, d.extra, s);
      break;
    case 'CUR': {
      const c = el(s, 2)?.toUpperCase();
      if (c && /^[A-Z]{3}$/.test(c)) d.currency ??= c;
      break;
    }
  }
  return i + 1;
}

/** CTT01 line count and CTT02 hash total. */
export function cttTotals(s: Segment | undefined): { lineCount?: number; quantity?: number } {
  return s ? { lineCount: countAt(s, 1), quantity: decimalAt(s, 2) } : {};
}

/** The object, or undefined when none of its values is set (keeps optional sub-objects absent). */
export function present<T extends object>(o: T): T | undefined {
  for (const k in o) if (o[k] !== undefined) return o;
  return undefined;
}

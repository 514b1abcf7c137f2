import type { Segment } from '../tokenizer.js';
import type { DocumentOf, HlNode } from '../../../src/canonical/business-documents.js';
import {
  addExtra, applyProductPairs, businessFields, cttTotals, newDraft, present, readCommonHeader, readLineSegment,
  setKey, x12Source, type Draft, type EnvelopeInput, type SetInput,
} from './common.js';
import { readParty } from './parties.js';
import { applyTd1, applyTd3, applyTd5 } from './transport.js';
import { codeAt, decimalAt, isoDateAt, isoTimeAt, keyAt, text, uomAt, upper } from './values.js';

type ShipNotice = DocumentOf<'ship_notice'>;
type ShipLine = ShipNotice['lines'][number];
type Carrier = NonNullable<ShipNotice['carrier']>;
type Totals = NonNullable<ShipNotice['totals']>;

/** HL03 level codes with a name. A switch: looking a fresh string up in an object costs more, millions of times. */
function kindOf(level: string | undefined): HlNode['kind'] {
  switch (level) {
    case 'S':
      return 'shipment';
    case 'O':
      return 'order';
    case 'T':
      return 'tare';
    case 'P':
      return 'pack';
    case 'Q':
      return 'subpack';
    case 'I':
      return 'item';
    default:
      return 'other';
  }
}
/** Deeper trees are not real ASNs; capping keeps validation and storage from recursing without bound. */
const MAX_DEPTH = 32;

const isPack = (a: HlNode) => (a.kind === 'pack' || a.kind === 'subpack') && !!a.marks?.length;
const isTare = (a: HlNode) => a.kind === 'tare' && !!a.marks?.length;


/** MAN marks: 01/02 qualifier and number (GM = SSCC-18, UC, CP carrier package ID, ...), 04/05 a second one. */
function addMarks(node: HlNode, s: Segment): void {
  const q1 = codeAt(s, 1);
  const id1 = keyAt(s, 2);
  const q2 = codeAt(s, 4);
  const id2 = keyAt(s, 5);
  if (id1) (node.marks ??= []).push({ qualifier: q1, id: id1 });
  if (id2) (node.marks ??= []).push({ qualifier: q2, id: id2 });
}

/** Order, tare and pack data: PRF (01 PO, 02 release, 04 PO date), REF (IV invoice; others kept), MAN marks, N1 (e.g. BY store). */
function readLevel(node: HlNode, segs: readonly Segment[], i: number, limit: number): number {
  const s = segs[i];
  if (s.tag === 'PRF') {
    node.poNumber ??= keyAt(s, 1);
    node.releaseNumber ??= keyAt(s, 2);
    node.poDate ??= isoDateAt(s, 4);
  } else if (s.tag === 'REF' && codeAt(s, 1) === 'IV') node.invoiceNumber ??= keyAt(s, 2);
  else if (s.tag === 'REF' || s.tag === 'DTM') addExtra((node.extra ??= {}), `${s.tag}.${codeAt(s, 1) ?? ''}`, text(s, 2));
  else if (s.tag === 'MAN') addMarks(node, s);
  else if (s.tag === 'N1') {
    const { party, end } = readParty(segs, i, limit);
    (node.parties ??= []).push(party);
    return end;
  }
  return i + 1;
}

/**
 * newLine() with the 856 fields, in one literal so that every field is stored in the object itself (adding
 * four fields to newLine()'s object cost a second allocation per line). The type check catches a field added
 * to LineCore and not here. hl is set once the tree is linked.
 */
function newShipLine(): ShipLine {
  return {
    lineNumber: undefined, sku: undefined, buyerPart: undefined, vendorPart: undefined, upc: undefined, upcCase: undefined, ean: undefined,
    gtin: undefined, lot: undefined, description: undefined, poNumber: undefined, quantityOrdered: undefined, quantityAcknowledged: undefined,
    quantityShipped: undefined, quantityInvoiced: undefined, quantityAdjusted: undefined, uom: undefined, unitPrice: undefined,
    priceBasis: undefined, status: undefined, reasonCode: undefined, dates: {}, parties: undefined, extra: {},
    quantityShippedToDate: undefined, hl: undefined as unknown as ShipLine['hl'], packMark: undefined, tareMark: undefined,
  };
}

/**
 * An HL node with every optional field present (undefined until read), in one literal. PERF: nodes used to
 * gain their fields as the data came (marks on packs, the PO on orders, lineIndex on items), so orders, packs
 * and items each had their own hidden class and the walk up the tree, which reads all of them, was megamorphic.
 */
function newNode(id: string | undefined, parentId: string | undefined, level: string | undefined): HlNode {
  return {
    id, parentId, level, kind: kindOf(level), poNumber: undefined, poDate: undefined, releaseNumber: undefined, invoiceNumber: undefined,
    marks: undefined, parties: undefined, extra: undefined, lineIndex: undefined, children: [],
  };
}

/** Item-level data: LIN (01 line, pairs from 02), SN1 (02 shipped, 03 unit, 04 shipped to date, 05 ordered, 08 status). */
function readItem(segs: readonly Segment[], from: number, to: number): ShipLine {
  const line = newShipLine();
  for (let i = from; i < to; ) {
    const s = segs[i];
    if (s.tag === 'LIN') {
      line.lineNumber ??= keyAt(s, 1);
      applyProductPairs(line, s, 2);
    } else if (s.tag === 'SN1') {
      line.lineNumber ??= keyAt(s, 1);
      line.quantityShipped ??= decimalAt(s, 2);
      line.uom ??= uomAt(s, 3);
      line.quantityShippedToDate ??= decimalAt(s, 4);
      line.quantityOrdered ??= decimalAt(s, 5);
      line.status ??= codeAt(s, 8);
    } else if (s.tag === 'PRF') line.poNumber ??= keyAt(s, 1);
    else {
      i = readLineSegment(line, segs, i, to);
      continue;
    }
    i++;
  }
  return line;
}

/** Shipment-level data goes to the document: carrier (TD5/TD3), packaging (TD1), REF/DTM/N1 and the rest. */
function readShipment(d: Draft, carrier: Carrier, totals: Totals, segs: readonly Segment[], from: number, to: number): void {
  for (let i = from; i < to; ) {
    const s = segs[i];
    if (s.tag === 'TD5') applyTd5(carrier, d.extra, s);
    else if (s.tag === 'TD3') applyTd3(carrier, s);
    else if (s.tag === 'TD1') applyTd1(totals, s);
    else {
      i = readCommonHeader(d, segs, i, to);
      continue;
    }
    i++;
  }
}

function holdsItem(segs: readonly Segment[], from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (segs[i].tag === 'LIN' || segs[i].tag === 'SN1') return true;
  return false;
}

/** The value of a canonical positive decimal ("1", "27"; not "01" or "1a"), or -1. */
function ordinal(id: string | undefined): number {
  if (id === undefined || id.length > 9 || id.charCodeAt(0) === 48) return -1;
  let v = 0;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * Index of each HL01 (the first node wins a repeated ID). Senders almost always number HLs 1, 2, 3... in
 * order, and then the index is the number minus one, with no map to build.
 */
function idIndex(nodes: HlNode[]): (id: string | undefined) => number {
  let numbered = true;
  for (let i = 0; i < nodes.length && numbered; i++) numbered = ordinal(nodes[i].id) === i + 1;
  if (numbered) {
    return (id) => {
      const v = ordinal(id);
      return v >= 1 && v <= nodes.length ? v - 1 : -1;
    };
  }
  const byId = new Map<string, number>();
  for (let i = 0; i < nodes.length; i++) {
    const id = nodes[i].id;
    if (id !== undefined && !byId.has(id)) byId.set(id, i);
  }
  return (id) => (id === undefined ? -1 : (byId.get(id) ?? -1));
}

/**
 * Links HL nodes by HL02 whatever order they come in. A node whose parent is missing, itself, one of
 * its own descendants, or too deep becomes a root, so the result is always a finite tree.
 * `parent[i]` is the index of node i's parent, -1 for a root.
 */
function linkTree(nodes: HlNode[]): { roots: HlNode[]; parent: number[] } {
  const indexOf = idIndex(nodes);
  const parent = new Array<number>(nodes.length).fill(-1);
  const roots: HlNode[] = [];
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i];
    const p = indexOf(n.parentId);
    let ok = p >= 0 && p !== i;
    let depth = 0;
    for (let a = p; ok && a >= 0; a = parent[a]) if (a === i || ++depth >= MAX_DEPTH) ok = false;
    if (ok) {
      parent[i] = p;
      nodes[p].children.push(n);
    } else roots.push(n);
  }
  return { roots, parent };
}

/**
 * 856 Ship Notice/Manifest. BSN: 01 purpose, 02 shipment ID, 03 date, 04 time, 05 hierarchical structure.
 * The HL tree is kept as sent (S O T P I, S O P I, crossdock S O P I P I ... O P I, S O I, in any order);
 * every HL holding LIN/SN1 becomes a line carrying its HL path, the nearest order's PO, pack and tare marks
 * (the item's own MAN when no pack above it has one).
 */
export function buildShipNotice(set: SetInput, env: EnvelopeInput): ShipNotice {
  const d = newDraft();
  const carrier: Carrier = {};
  const totals: Totals = {};
  // PERF: levels are index ranges into the set's segments (no per-HL arrays); the body is ST..SE exclusive.
  const segs = set.segments;
  const from = segs[0]?.tag === 'ST' ? 1 : 0;
  let to = segs.length;
  if (to > from && segs[to - 1].tag === 'SE') to--;
  const header: Segment[] = [];
  // Level k is nodes[k] (its HL) and the segments after it up to the next HL or the summary: segs[starts[k]..ends[k]).
  const nodes: HlNode[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  let summary = to;
  for (let i = from; i < to; i++) {
    const s = segs[i];
    // Everything from the first CTT on is summary.
    if (s.tag === 'CTT') {
      summary = i;
      break;
    }
    if (s.tag === 'HL') {
      if (nodes.length) ends.push(i);
      const code = codeAt(s, 3);
      const level = code && upper(code);
      nodes.push(newNode(keyAt(s, 1), keyAt(s, 2), level));
      starts.push(i + 1);
    } else if (!nodes.length) header.push(s);
  }
  if (nodes.length) ends.push(summary);
  const bsn = header.find((s) => s.tag === 'BSN');
  setKey(d, 'shipmentId', keyAt(bsn, 2), 'BSN.02');
  const rest = header.filter((s) => s !== bsn);
  readShipment(d, carrier, totals, rest, 0, rest.length);

  const lines: ShipLine[] = [];
  const lineNodes: number[] = [];
  for (let k = 0; k < nodes.length; k++) {
    const node = nodes[k];
    const a = starts[k];
    const b = ends[k];
    if (node.kind === 'shipment') readShipment(d, carrier, totals, segs, a, b);
    else if (holdsItem(segs, a, b)) {
      node.lineIndex = lines.length;
      lines.push(readItem(segs, a, b));
      lineNodes.push(k);
      for (let i = a; i < b; i++) if (segs[i].tag === 'MAN') addMarks(node, segs[i]);
    } else for (let i = a; i < b; ) i = readLevel(node, segs, i, b);
  }
  const { roots, parent } = linkTree(nodes);
  // One walk up per line; the first match on the way up wins (own node, parent, grandparent, ...).
  for (let index = 0; index < lineNodes.length; index++) {
    const node = nodes[lineNodes[index]];
    const line = lines[index];
    let po = node.poNumber || undefined;
    let pack = isPack(node) ? node : undefined;
    let tare = isTare(node) ? node : undefined;
    // The path runs from the root down: its length is counted first so it is filled from the end, at its size.
    let depth = 0;
    for (let a = parent[lineNodes[index]]; a >= 0; a = parent[a]) depth++;
    const path: ShipLine['hl']['path'] = new Array(depth);
    for (let a = parent[lineNodes[index]]; a >= 0; a = parent[a]) {
      const up = nodes[a];
      path[--depth] = { id: up.id, level: up.level };
      if (!po && up.poNumber) po = up.poNumber;
      if (!pack && isPack(up)) pack = up;
      if (!tare && isTare(up)) tare = up;
    }
    line.hl = { id: node.id, path };
    line.poNumber ??= po;
    line.packMark = (pack ?? node).marks?.[0].id;
    line.tareMark = tare?.marks?.[0].id;
  }
  for (const n of nodes) if (n.poNumber) setKey(d, 'poNumber', n.poNumber, 'PRF.01');
  // Lines mostly repeat their order's PO, and setKey is a no-op for a PO it has just taken: skip the repeats.
  let lastPo: string | undefined;
  for (const l of lines) {
    if (l.poNumber && l.poNumber !== lastPo) setKey(d, 'poNumber', l.poNumber, 'PRF.01');
    lastPo = l.poNumber;
  }
  // Several orders: no single PO for the document. (Assigned, not deleted: delete makes the object slow.)
  if (d.poNumbers.length > 1) d.keys.poNumber = undefined;
  Object.assign(totals, cttTotals(summary < to ? segs[summary] : undefined));
  // PERF: the business fields are written out rather than spread in the middle of the literal, which copied them
  // one by one at run time; the keys keep the order the spread gave them.
  const b = businessFields(d);
  return {
    type: 'ship_notice',
    x12: x12Source(set, env),
    schemaVersion: b.schemaVersion,
    dates: b.dates,
    parties: b.parties,
    poNumber: b.poNumber,
    poNumbers: b.poNumbers,
    shipmentId: b.shipmentId,
    depositorOrderNumber: b.depositorOrderNumber,
    invoiceNumber: b.invoiceNumber,
    bolNumber: b.bolNumber,
    proNumber: b.proNumber,
    references: b.references,
    currency: b.currency,
    extra: b.extra,
    documentDate: isoDateAt(bsn, 3),
    documentTime: isoTimeAt(bsn, 4),
    purpose: codeAt(bsn, 1),
    structureCode: keyAt(bsn, 5),
    carrier: present(carrier),
    totals: present(totals),
    hierarchy: roots,
    lines,
  };
}

import type { Segment } from '../tokenizer.js';
import type { DocumentOf, HlNode } from '../../../src/canonical/business-documents.js';
import {
  addExtra, applyProductPairs, body, businessFields, cttTotals, newDraft, newLine, present, readCommonHeader, readLineSegment,
  setKey, x12Source, type Draft, type EnvelopeInput, type SetInput,
} from './common.js';
import { readParty } from './parties.js';
import { applyTd1, applyTd3, applyTd5 } from './transport.js';
import { codeAt, decimalAt, isoDateAt, isoTimeAt, keyAt, text, uomAt } from './values.js';

type ShipNotice = DocumentOf<'ship_notice'>;
type ShipLine = ShipNotice['lines'][number];
type Carrier = NonNullable<ShipNotice['carrier']>;
type Totals = NonNullable<ShipNotice['totals']>;

const KINDS: Record<string, HlNode['kind']> = { S: 'shipment', O: 'order', T: 'tare', P: 'pack', Q: 'subpack', I: 'item' };
/** Deeper trees are not real ASNs; capping keeps validation and storage from recursing without bound. */
const MAX_DEPTH = 32;

const isPack = (a: HlNode) => (a.kind === 'pack' || a.kind === 'subpack') && !!a.marks?.length;
const isTare = (a: HlNode) => a.kind === 'tare' && !!a.marks?.length;

interface Level {
  node: HlNode;
  segments: Segment[];
}

/** MAN marks: 01/02 qualifier and number (GM = SSCC-18, UC, CP carrier package ID, ...), 04/05 a second one. */
function addMarks(node: HlNode, s: Segment): void {
  for (const [q, id] of [[codeAt(s, 1), keyAt(s, 2)], [codeAt(s, 4), keyAt(s, 5)]]) if (id) (node.marks ??= []).push({ qualifier: q, id });
}

/** Order, tare and pack data: PRF (01 PO, 02 release, 04 PO date), REF (IV invoice; others kept), MAN marks, N1 (e.g. BY store). */
function readLevel(node: HlNode, segs: Segment[], i: number): number {
  const s = segs[i];
  if (s.tag === 'PRF') {
    node.poNumber ??= keyAt(s, 1);
    node.releaseNumber ??= keyAt(s, 2);
    node.poDate ??= isoDateAt(s, 4);
  } else if (s.tag === 'REF' && codeAt(s, 1) === 'IV') node.invoiceNumber ??= keyAt(s, 2);
  else if (s.tag === 'REF' || s.tag === 'DTM') addExtra((node.extra ??= {}), `${s.tag}.${codeAt(s, 1) ?? ''}`, text(s, 2));
  else if (s.tag === 'MAN') addMarks(node, s);
  else if (s.tag === 'N1') {
    const { party, end } = readParty(segs, i);
    (node.parties ??= []).push(party);
    return end;
  }
  return i + 1;
}

/** Item-level data: LIN (01 line, pairs from 02), SN1 (02 shipped, 03 unit, 04 shipped to date, 05 ordered, 08 status). */
function readItem(segs: Segment[]): ShipLine {
  const line: ShipLine = Object.assign(newLine(), { quantityShippedToDate: undefined, hl: { path: [] as ShipLine['hl']['path'] }, packMark: undefined, tareMark: undefined });
  for (let i = 0; i < segs.length; ) {
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
      i = readLineSegment(line, segs, i);
      continue;
    }
    i++;
  }
  return line;
}

/** Shipment-level data goes to the document: carrier (TD5/TD3), packaging (TD1), REF/DTM/N1 and the rest. */
function readShipment(d: Draft, carrier: Carrier, totals: Totals, segs: Segment[]): void {
  for (let i = 0; i < segs.length; ) {
    const s = segs[i];
    if (s.tag === 'TD5') applyTd5(carrier, d.extra, s);
    else if (s.tag === 'TD3') applyTd3(carrier, s);
    else if (s.tag === 'TD1') applyTd1(totals, s);
    else {
      i = readCommonHeader(d, segs, i);
      continue;
    }
    i++;
  }
}

/**
 * Links HL nodes by HL02 whatever order they come in. A node whose parent is missing, itself, one of
 * its own descendants, or too deep becomes a root, so the result is always a finite tree.
 */
function linkTree(nodes: HlNode[]): { roots: HlNode[]; parent: Map<HlNode, HlNode> } {
  const byId = new Map<string, HlNode>();
  for (const n of nodes) if (n.id !== undefined && !byId.has(n.id)) byId.set(n.id, n);
  const parent = new Map<HlNode, HlNode>();
  const roots: HlNode[] = [];
  for (const n of nodes) {
    const p = n.parentId !== undefined ? byId.get(n.parentId) : undefined;
    let ok = p !== undefined && p !== n;
    let depth = 0;
    for (let a = p; ok && a; a = parent.get(a)) if (a === n || ++depth >= MAX_DEPTH) ok = false;
    if (ok) {
      parent.set(n, p!);
      p!.children.push(n);
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
  const header: Segment[] = [];
  const levels: Level[] = [];
  const summary: Segment[] = [];
  for (const s of body(set)) {
    if (summary.length || s.tag === 'CTT') summary.push(s);
    else if (s.tag === 'HL') {
      const level = codeAt(s, 3)?.toUpperCase();
      levels.push({ node: { id: keyAt(s, 1), parentId: keyAt(s, 2), level, kind: (level && KINDS[level]) || 'other', children: [] }, segments: [] });
    } else (levels.at(-1)?.segments ?? header).push(s);
  }
  const bsn = header.find((s) => s.tag === 'BSN');
  setKey(d, 'shipmentId', keyAt(bsn, 2), 'BSN.02');
  readShipment(d, carrier, totals, header.filter((s) => s !== bsn));

  const lines: ShipLine[] = [];
  const lineNodes: HlNode[] = [];
  for (const { node, segments } of levels) {
    if (node.kind === 'shipment') readShipment(d, carrier, totals, segments);
    else if (segments.some((s) => s.tag === 'LIN' || s.tag === 'SN1')) {
      node.lineIndex = lines.length;
      lines.push(readItem(segments));
      lineNodes.push(node);
      for (const m of segments) if (m.tag === 'MAN') addMarks(node, m);
    } else for (let i = 0; i < segments.length; ) i = readLevel(node, segments, i);
  }
  const { roots, parent } = linkTree(levels.map((l) => l.node));
  // PERF: one walk up per line, no chain/up arrays or find() closures. The first match on the way up
  // wins, exactly as find() over [node, parent, grandparent, ...] did.
  for (let index = 0; index < lineNodes.length; index++) {
    const node = lineNodes[index];
    const line = lines[index];
    const path: ShipLine['hl']['path'] = [];
    let po = node.poNumber || undefined;
    let pack = isPack(node) ? node : undefined;
    let tare = isTare(node) ? node : undefined;
    for (let a = parent.get(node); a; a = parent.get(a)) {
      path.push({ id: a.id, level: a.level });
      if (!po && a.poNumber) po = a.poNumber;
      if (!pack && isPack(a)) pack = a;
      if (!tare && isTare(a)) tare = a;
    }
    line.hl = { id: node.id, path: path.reverse() };
    line.poNumber ??= po;
    line.packMark = (pack ?? node).marks?.[0].id;
    line.tareMark = tare?.marks?.[0].id;
  }
  for (const n of levels) if (n.node.poNumber) setKey(d, 'poNumber', n.node.poNumber, 'PRF.01');
  for (const l of lines) if (l.poNumber) setKey(d, 'poNumber', l.poNumber, 'PRF.01');
  if (d.poNumbers.length > 1) delete d.keys.poNumber;
  Object.assign(totals, cttTotals(summary.find((s) => s.tag === 'CTT')));
  return {
    type: 'ship_notice',
    x12: x12Source(set, env),
    ...businessFields(d),
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

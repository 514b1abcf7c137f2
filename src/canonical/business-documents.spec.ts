import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  BusinessDocumentSchema, businessDocumentJsonSchema, DOCUMENT_TYPES, SET_DOCUMENT_TYPES, validateBusinessDocument, type BusinessDocument,
} from './business-documents.js';
import { tokenize, type Segment } from '../../connectors/x12/tokenizer.js';
import { buildDocument, SUPPORTED_SETS, type EnvelopeInput } from '../../connectors/x12/documents/index.js';

const x12 = (set: string) => ({ set, controlNumber: '0001', interchangeControlNumber: '000000001', testMode: false });
const business = { schemaVersion: 1, dates: {}, parties: [], poNumbers: [], references: {}, extra: {} };

/** The smallest valid document of each type. */
const minimal: Record<string, Record<string, unknown>> = {
  purchase_order: { type: 'purchase_order', x12: x12('850'), ...business, lines: [] },
  po_acknowledgment: { type: 'po_acknowledgment', x12: x12('855'), ...business, lines: [] },
  ship_notice: { type: 'ship_notice', x12: x12('856'), ...business, hierarchy: [], lines: [] },
  invoice: { type: 'invoice', x12: x12('810'), ...business, charges: [], terms: [], lines: [] },
  shipment_status: { type: 'shipment_status', x12: x12('214'), ...business, lines: [] },
  warehouse_shipping_order: { type: 'warehouse_shipping_order', x12: x12('940'), ...business, lines: [] },
  warehouse_shipping_advice: { type: 'warehouse_shipping_advice', x12: x12('945'), ...business, lines: [] },
  inventory_adjustment: { type: 'inventory_adjustment', x12: x12('947'), ...business, lines: [] },
  inventory_advice: { type: 'inventory_advice', x12: x12('846'), ...business, lines: [] },
  functional_ack: { type: 'functional_ack', schemaVersion: 1, x12: x12('999'), sets: [], errorCodes: [], extra: {} },
  technical_ack: { type: 'technical_ack', schemaVersion: 1, x12: { set: 'TA1', testMode: true }, extra: {} },
};
const problems = (doc: unknown) => {
  const r = validateBusinessDocument(doc);
  return r.ok ? [] : r.problems;
};

describe('canonical business documents v1', () => {
  it('has one document type per supported set, and accepts the minimal document of each', () => {
    expect(Object.keys(minimal).sort()).toEqual([...DOCUMENT_TYPES].sort());
    expect(Object.keys(SET_DOCUMENT_TYPES).sort()).toEqual([...SUPPORTED_SETS].sort());
    for (const doc of Object.values(minimal)) expect([doc.type, problems(doc)]).toEqual([doc.type, []]);
  });

  it('fills defaults for what a producer may leave out', () => {
    const r = BusinessDocumentSchema.parse({ type: 'purchase_order', schemaVersion: 1, x12: x12('850'), lines: [{ quantityOrdered: 2 }] });
    expect(r).toMatchObject({ parties: [], poNumbers: [], dates: {}, references: {}, extra: {}, lines: [{ quantityOrdered: 2, dates: {}, extra: {} }] });
  });

  it('reports every problem with its path', () => {
    const bad = {
      ...minimal.ship_notice,
      x12: x12('850'),
      documentDate: '2024-02-30',
      documentTime: '25:00',
      poNumber: 'PO-1',
      currency: 'usd',
      lines: [{ hl: { path: [] }, uom: 'EACH', quantityShipped: Number.NaN, dates: { shipped: '20240101' }, extra: { 'REF.ZZ': [] } }],
      surprise: true,
    };
    expect(problems(bad).map((p) => p.path).sort()).toEqual(
      ['(root)', 'currency', 'documentDate', 'documentTime', 'lines.0.dates.shipped', 'lines.0.extra.REF.ZZ', 'lines.0.quantityShipped', 'lines.0.uom'].sort(),
    );
    const refined = problems({ ...minimal.invoice, x12: x12('850'), poNumber: 'PO-1' }).map((p) => `${p.path}: ${p.message}`);
    expect(refined).toEqual(['x12.set: set 850 does not make a invoice', 'poNumbers: must include poNumber']);
    expect(problems({ ...minimal.functional_ack, status: 'Q', sets: [{ status: 'A', errorCodes: [], segmentErrors: [] }] }).map((p) => p.path)).toEqual(['status']);
    expect(problems({ ...minimal.technical_ack, status: 'P' }).map((p) => p.path)).toEqual(['status']);
    expect(problems({ type: 'quote' }).map((p) => p.path)).toEqual(['type']);
  });

  it('validates the HL tree recursively', () => {
    const node = (id: string, kind: string, children: unknown[] = []) => ({ id, kind, children });
    const tree = [node('1', 'shipment', [node('2', 'order', [node('3', 'pack', [node('4', 'item')])])])];
    expect(problems({ ...minimal.ship_notice, hierarchy: tree })).toEqual([]);
    const broken = [node('1', 'shipment', [node('2', 'order', [node('3', 'crate')])])];
    expect(problems({ ...minimal.ship_notice, hierarchy: broken }).map((p) => p.path)).toEqual(['hierarchy.0.children.0.children.0.kind']);
  });

  it('publishes a JSON Schema with one variant per document type', () => {
    const s = JSON.stringify(businessDocumentJsonSchema());
    for (const t of DOCUMENT_TYPES) expect(s).toContain(`"const":"${t}"`);
  });
});

/** Deterministic pseudo-random numbers (mulberry32), so a failing case can be replayed. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('documents built from damaged X12 still validate', () => {
  const ROOT = 'test/fixtures/x12';
  const files = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(path.join(dir, f)).isDirectory() ? files(path.join(dir, f)) : [path.join(dir, f)]));
  const sets: { id: string; segments: Segment[]; envelope: EnvelopeInput }[] = [];
  for (const file of files(ROOT).filter((f) => !f.endsWith('.md'))) {
    let segs: Segment[];
    try {
      segs = tokenize(readFileSync(file, 'utf8'));
    } catch {
      continue;
    }
    const interchange = { controlNumber: '1', senderId: 'S', receiverId: 'R', usage: 'P' };
    let current: Segment[] | undefined;
    for (const s of segs) {
      if (s.tag === 'TA1') sets.push({ id: 'TA1', segments: [s], envelope: { interchange } });
      if (s.tag === 'ST') current = [];
      current?.push(s);
      if (s.tag === 'SE' && current && SUPPORTED_SETS.includes(current[0].elements[1])) sets.push({ id: current[0].elements[1], segments: current, envelope: { interchange } });
      if (s.tag === 'SE') current = undefined;
    }
  }
  const GARBAGE = ['', ' ', '----------', '-1', '1e9', '9'.repeat(400), 'X'.repeat(2000), '20241399', '000000', '2460', '>', '~>~', 'Ü€ ', '0.', '.', 'NaN', 'P', 'Q'];

  function damage(segments: Segment[], random: () => number): Segment[] {
    const out = segments.map((s) => ({ ...s, elements: [...s.elements] }));
    const pick = () => Math.floor(random() * out.length);
    for (let n = 1 + Math.floor(random() * 4); n > 0 && out.length; n--) {
      const op = Math.floor(random() * 5);
      const i = pick();
      if (op === 0) out.splice(i, 1);
      else if (op === 1) out.splice(i, 0, { ...out[i], elements: [...out[i].elements] });
      else if (op === 2) out[i].elements = out[i].elements.slice(0, 1 + Math.floor(random() * out[i].elements.length));
      else if (op === 3) [out[i], out[pick()]] = [out[pick()], out[i]];
      else {
        const e = 1 + Math.floor(random() * Math.max(1, out[i].elements.length + 2));
        out[i].elements[e] = GARBAGE[Math.floor(random() * GARBAGE.length)];
        for (let k = 0; k < e; k++) out[i].elements[k] ??= '';
      }
    }
    return out;
  }

  it(`holds for ${12} damaged copies of every supported set in the fixtures`, () => {
    expect(sets.length).toBeGreaterThan(100);
    const random = rng(20260312);
    for (const { id, segments, envelope } of sets) {
      for (let k = 0; k < 12; k++) {
        const damaged = damage(segments, random);
        const doc = buildDocument({ id, controlNumber: '0001', segments: damaged }, envelope) as BusinessDocument;
        const found = problems(doc);
        if (found.length || doc.extra.builderError) throw new Error(`${id} #${k}: ${JSON.stringify(found.length ? found : doc.extra.builderError)}\n${damaged.map((s) => s.elements.join('*')).join('\n')}`);
      }
    }
  });

  it('holds for empty sets and segments, and a builder failure still yields a valid document', () => {
    const envelope = { interchange: { controlNumber: '', senderId: '', receiverId: '', usage: '' } };
    const empty = { tag: '', elements: [], index: 0, offset: 0, delimiters: { element: '*', component: '>', segment: '~' } } as Segment;
    for (const id of SUPPORTED_SETS) {
      for (const segments of [[], [empty], [empty, empty]]) expect(problems(buildDocument({ id, controlNumber: '', segments }, envelope))).toEqual([]);
    }
    const exploding = { tag: 'ST', get elements(): string[] { throw new Error('unreadable segment'); } } as unknown as Segment;
    for (const id of SUPPORTED_SETS.filter((s) => s !== 'TA1')) {
      const doc = buildDocument({ id, controlNumber: '0042', segments: [exploding, exploding] }, envelope)!;
      expect([doc.type, doc.x12.controlNumber, doc.extra.builderError, problems(doc)]).toEqual([SET_DOCUMENT_TYPES[id], '0042', ['unreadable segment'], []]);
    }
  });
});

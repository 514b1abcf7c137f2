import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { tokenize, type Segment } from '../../connectors/x12/tokenizer.js';
import { buildDocument, SUPPORTED_SETS, type EnvelopeInput, type SetInput } from '../../connectors/x12/documents/index.js';
import { validateBusinessDocument, type BusinessDocument, type DocumentOf, type DocumentType, type HlNode } from '../../src/canonical/business-documents.js';

/** Every fixture holding a supported set becomes documents that validate; then real content is checked against the bytes. */
const ROOT = 'test/fixtures/x12';

interface Unit { set: SetInput; envelope: EnvelopeInput }

/** A minimal envelope walk for the tests (the real walker lives elsewhere): ISA/GS context, ST..SE sets, TA1 alone. */
function units(file: string): Unit[] {
  const out: Unit[] = [];
  let interchange: EnvelopeInput['interchange'] = { controlNumber: '', senderId: '', receiverId: '', usage: '' };
  let group: EnvelopeInput['group'];
  let current: Segment[] | undefined;
  for (const s of tokenize(readFileSync(file, 'utf8'))) {
    const e = s.elements;
    if (s.tag === 'ISA') interchange = { senderId: e[6], receiverId: e[8], version: e[12], controlNumber: e[13], usage: e[15] };
    else if (s.tag === 'GS') group = { functionalId: e[1], senderCode: e[2], receiverCode: e[3], controlNumber: e[6], version: e[8] ?? '' };
    else if (s.tag === 'TA1') out.push({ set: { id: 'TA1', controlNumber: '', segments: [s] }, envelope: { interchange } });
    else if (s.tag === 'ST') current = [s];
    else if (current) current.push(s);
    if (s.tag === 'SE' && current) {
      out.push({ set: { id: current[0].elements[1], controlNumber: current[0].elements[2] ?? '', segments: current }, envelope: { interchange, group } });
      current = undefined;
    }
  }
  return out;
}

/** SOURCES.md / generated/README.md rows: fixture path and the supported set IDs its set column names. */
function listedFixtures(): [string, string[]][] {
  const rows = [path.join(ROOT, 'SOURCES.md'), path.join(ROOT, 'generated/README.md')].flatMap((f) => readFileSync(f, 'utf8').split('\n'));
  return rows
    .filter((r) => r.startsWith('| test/fixtures/x12/'))
    .map((r) => r.split('|').map((c) => c.trim()))
    .map((c) => [c[1], [...new Set(c[4].match(/\b(\d{3}|TA1)\b/g) ?? [])].filter((id) => SUPPORTED_SETS.includes(id))] as [string, string[]])
    .filter(([, ids]) => ids.length > 0);
}

const cache = new Map<string, BusinessDocument[]>();
function docs(file: string): BusinessDocument[] {
  const f = path.join(ROOT, file);
  if (!cache.has(f)) cache.set(f, units(f).map((u) => buildDocument(u.set, u.envelope)).filter((d): d is BusinessDocument => d !== undefined));
  return cache.get(f)!;
}
function docsOf<T extends DocumentType>(file: string, type: T): DocumentOf<T>[] {
  const all = docs(file);
  expect(all.every((d) => d.type === type)).toBe(true);
  return all as DocumentOf<T>[];
}
const sum = (xs: (number | undefined)[]) => Math.round(xs.reduce<number>((a, b) => a + (b ?? 0), 0) * 100) / 100;

describe('every fixture with a supported set', () => {
  const listed = listedFixtures();
  const onDisk = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(path.join(dir, f)).isDirectory() ? onDisk(path.join(dir, f)) : [path.join(dir, f)]));

  it('is listed, and the list matches what the files hold', () => {
    expect(listed.length).toBeGreaterThanOrEqual(60);
    for (const file of onDisk(ROOT).filter((f) => !f.endsWith('.md'))) {
      let ids: string[] = [];
      try { ids = [...new Set(units(file).map((u) => u.set.id))].filter((id) => SUPPORTED_SETS.includes(id)); } catch { /* not X12 at all */ }
      expect([file, ids.sort()]).toEqual([file, (listed.find(([f]) => f === file)?.[1] ?? []).sort()]);
    }
  });

  it.each(listed)('%s builds documents that validate', (file, ids) => {
    const us = units(file).filter((u) => SUPPORTED_SETS.includes(u.set.id));
    expect([...new Set(us.map((u) => u.set.id))].sort()).toEqual([...ids].sort());
    for (const u of us) {
      const doc = buildDocument(u.set, u.envelope)!;
      expect(doc).toBeDefined();
      const r = validateBusinessDocument(doc);
      expect(r.ok ? [] : r.problems).toEqual([]);
      expect(doc.extra.builderError).toBeUndefined();
      expect(JSON.parse(JSON.stringify(doc))).toEqual(r.ok ? JSON.parse(JSON.stringify(r.value)) : undefined);
    }
  });

  it('returns undefined for sets it does not support', () => {
    const u = units(path.join(ROOT, 'azoner-pyx12/mult_isa.txt'))[0];
    expect(u.set.id).toBe('278');
    expect(buildDocument(u.set, u.envelope)).toBeUndefined();
  });
});

describe('purchase orders (850)', () => {
  it('reads BEG, PO1 lines with their ID pairs, PO4 packs and the summary', () => {
    const [po] = docsOf('aaronhuggins-node-x12/850.edi', 'purchase_order');
    expect(po).toMatchObject({ poNumber: '08292233294', poNumbers: ['08292233294'], documentDate: '2010-11-27', purpose: '00', orderType: 'SA', dates: { requestedDelivery: '2010-12-14' } });
    expect(po.references).toMatchObject({ department: '038', contractNumber: '610385385' });
    expect(po.parties).toEqual([expect.objectContaining({ role: 'ship_to', code: 'ST', name: 'XYZ RETAIL', idQualifier: '9', id: '0003947268292', address: { lines: ['31875 SOLON RD'], city: 'SOLON', state: 'OH', postalCode: '44139' } })]);
    expect(po.lines.map((l) => [l.lineNumber, l.quantityOrdered, l.uom, l.unitPrice, l.vendorPart])).toEqual([
      ['1', 120, 'EA', 9.25, 'AB3542'], ['2', 220, 'EA', 13.79, 'RD5322'], ['3', 126, 'EA', 10.99, 'XY5266'],
      ['4', 76, 'EA', 4.35, 'VX2332'], ['5', 72, 'EA', 7.5, 'RV0524'], ['6', 696, 'EA', 9.55, 'DX1875'],
    ]);
    expect(po.lines[0]).toMatchObject({ description: 'SMALL WIDGET', pack: { pack: 4, size: 4, uom: 'EA' }, extra: { 'PO1.CB': ['065322-117'], 'PO1.PR': ['RO'] } });
    expect(po.totals).toMatchObject({ lineCount: 6, amount: 13045.94 });
    expect(sum(po.lines.map((l) => l.quantityOrdered! * l.unitPrice!))).toBe(po.totals!.amount);
  });

  it('leaves a placeholder PO number out, salvages values from a broken ISA16 and reads composites', () => {
    expect(docsOf('aaronhuggins-node-x12/850_3.edi', 'purchase_order')[0]).toMatchObject({ poNumber: undefined, poNumbers: [] });
    const [a, b] = docsOf('indice-co-edi-net/x12.850.issue135.edi', 'purchase_order');
    expect([a.poNumber, a.documentDate, a.lines.length, b.poNumber, b.lines.length]).toEqual(['740150', '2019-10-01', 10, '740151', 11]);
    expect(a.lines[0]).toMatchObject({ quantityOrdered: 13200, uom: 'SF', dates: { requestedDelivery: '2019-03-09', shipNoLater: '2019-03-09' }, pack: { size: 6055.05, uom: 'PC' } });
    expect(a.lines[0].extra['PO1.ST']).toEqual(['F07EXPLBA1818']);
    const [sln] = docsOf('olmelabs-ediengine/850.Composite.SLN.OK.edi', 'purchase_order');
    expect(sln.lines[0].sublines).toEqual([{ lineNumber: '1.1', relationship: 'I', quantity: 10000, uom: 'PC', unitPrice: 1.56, vendorPart: 'P-875OS', upc: '09999982001', extra: {} }]);
    const po3010 = docs('xlate-staedi/invoice810_po850_dual.edi').find((d) => d.type === 'purchase_order');
    expect(po3010).toMatchObject({ poNumber: 'S115921858', documentDate: '2004-03-17', x12: { version: '003010', functionalId: 'PO', groupControlNumber: '165' } });
  });
});

describe('purchase order acknowledgments (855)', () => {
  it('reads each line ACK: 4 lines, 2 rejected (IR) with quantity 0', () => {
    const [ack] = docsOf('aaronhuggins-node-x12/855.edi', 'po_acknowledgment');
    expect(ack).toMatchObject({ poNumber: 'POTEST1112', acknowledgmentType: 'AD', documentDate: '2020-10-15', currency: 'USD', totals: { lineCount: 4, quantity: 5 } });
    expect(ack.lines.map((l) => [l.lineNumber, l.ean, l.quantityOrdered, l.status, l.quantityAcknowledged, l.acknowledgments[0].industryCode])).toEqual([
      ['1', '9780446360265', 3, 'IA', 3, 'AC'], ['2', '9780767928427', 2, 'IR', 0, 'CW'],
      ['3', '9780099599531', 1, 'IR', 0, 'KK'], ['4', '9780446360272', 2, 'IA', 2, 'AC'],
    ]);
    expect(ack.lines.filter((l) => l.status === 'IR' && l.quantityAcknowledged === 0)).toHaveLength(2);
    const [ssimmons1, ssimmons2] = docsOf('inteligenz-x12parser/_855/855SSimmons.txt', 'po_acknowledgment');
    expect([ssimmons1.poNumber, ssimmons1.references.sellerOrderNumber, ssimmons1.documentDate, ssimmons2.poNumber, ssimmons2.lines.length]).toEqual(['7542', '83517234', '2011-09-28', '99035', 1]);
    expect(ssimmons1.dates).toEqual({ purchaseOrder: '2011-09-28', estimatedDelivery: '2011-10-07' });
    expect(ssimmons1.lines[0].parties?.[0]).toMatchObject({ code: 'LW', role: 'other', id: '09959400' });
  });
});

describe('ship notices (856)', () => {
  const tree = (n: HlNode): unknown => [n.id, n.level, ...n.children.map(tree)];

  it('keeps the crossdock hierarchy S > O > P > I (x4) and O > P > I, and gives every item its parent chain', () => {
    const [asn] = docsOf('olmelabs-ediengine/856.Crossdock.OK.edi', 'ship_notice');
    expect(asn.hierarchy.map(tree)).toEqual([['1', 'S', ['2', 'O', ['3', 'P', ['4', 'I']], ['5', 'P', ['6', 'I']], ['7', 'P', ['8', 'I']], ['9', 'P', ['10', 'I']]], ['11', 'O', ['12', 'P', ['13', 'I']]]]]);
    const orders = asn.hierarchy[0].children;
    expect(orders.map((o) => [o.poNumber, o.invoiceNumber, o.parties?.[0].id])).toEqual([['POREF00', '0000021', '002'], ['POREF01', '0000022', '003']]);
    expect(asn).toMatchObject({ shipmentId: '000009', bolNumber: '000001', proNumber: '0000000008741', poNumber: undefined, poNumbers: ['POREF00', 'POREF01'], documentDate: '2009-09-21' });
    expect(asn.dates).toEqual({ shipped: '2009-09-21', estimatedDelivery: '2009-09-25' });
    expect(asn.carrier).toMatchObject({ scac: 'OVNT', routing: 'OVERNITE' });
    expect(asn.lines.map((l) => [l.hl.id, l.hl.path.map((p) => `${p.level}${p.id}`).join('/'), l.poNumber, l.packMark, l.upc ?? l.ean, l.quantityShipped, l.uom])).toEqual([
      ['4', 'S1/O2/P3', 'POREF00', '00000715670002152360', '0000000000642', 12, 'EA'],
      ['6', 'S1/O2/P5', 'POREF00', '00000715670002152377', '0000000000831', 12, 'EA'],
      ['8', 'S1/O2/P7', 'POREF00', '00000715670002152384', '0000000000283', 12, 'EA'],
      ['10', 'S1/O2/P9', 'POREF00', '00000715670002152391', '0000000000203', 12, 'EA'],
      ['13', 'S1/O11/P12', 'POREF01', '00000715670002152111', '0000000000642', 12, 'EA'],
    ]);
    expect(asn.lines.map((l, i) => l.hl.id === find(asn.hierarchy, (n) => n.lineIndex === i)?.id)).toEqual(asn.lines.map(() => true));
  });

  it('builds the same tree whatever order the HL loops come in, and never loops on a cyclic HL', () => {
    const u = units(path.join(ROOT, 'olmelabs-ediengine/856.Crossdock.OK.edi'))[0];
    const segs = u.set.segments;
    const starts = segs.flatMap((s, i) => (s.tag === 'HL' ? [i] : []));
    const ctt = segs.findIndex((s) => s.tag === 'CTT');
    const loops = starts.map((b, k) => segs.slice(b, starts[k + 1] ?? ctt));
    const shuffled = [...segs.slice(0, starts[0]), ...loops.reverse().flat(), ...segs.slice(ctt)];
    const reversed = buildDocument({ ...u.set, segments: shuffled }, u.envelope) as DocumentOf<'ship_notice'>;
    const original = docsOf('olmelabs-ediengine/856.Crossdock.OK.edi', 'ship_notice')[0];
    const sorted = (n: HlNode): unknown => [n.id, ...n.children.map(sorted).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))];
    expect(reversed.hierarchy.map(sorted)).toEqual(original.hierarchy.map(sorted));
    expect(new Map(reversed.lines.map((l) => [l.hl.id, l.hl.path]))).toEqual(new Map(original.lines.map((l) => [l.hl.id, l.hl.path])));
    const cyclic = segs.map((s) => (s.tag === 'HL' && s.elements[1] === '1' ? { ...s, elements: ['HL', '1', '13', 'S'] } : s));
    const c = buildDocument({ ...u.set, segments: cyclic }, u.envelope) as DocumentOf<'ship_notice'>;
    expect(validateBusinessDocument(c).ok).toBe(true);
    expect(c.lines).toHaveLength(5);
  });

  it('reads S > O > I and S > O > P > I ASNs, lots and lot expiry, tare/pack marks', () => {
    const [a] = docsOf('aaronhuggins-node-x12/856.edi', 'ship_notice');
    expect(a.lines.map((l) => [l.lineNumber, l.vendorPart, l.upc, l.quantityShipped, l.hl.path.map((p) => p.level).join('')])).toEqual([['1', '87787D', '999999310145', 24, 'SO'], ['2', '99887D', '999999311746', 6, 'SO']]);
    expect(a.hierarchy[0].children[0]).toMatchObject({ poNumber: '99999817', poDate: '2011-12-05' });
    expect(a.totals).toMatchObject({ lineCount: 4, quantity: 30, ladingQuantity: 2, weight: 60.31, weightUom: 'LB' });
    expect(sum(a.lines.map((l) => l.quantityShipped))).toBe(a.totals!.quantity);
    const [old] = docsOf('silvenga-vscode-edi-x12-support/old.edi', 'ship_notice');
    expect(old.lines[0]).toMatchObject({ lot: '3308212', dates: { lotExpiration: '2021-10-31' }, quantityShipped: 4, quantityOrdered: 4, packMark: '0354023220190916', poNumber: '6218' });
    expect(old.lines[0].parties?.[0]).toMatchObject({ role: 'manufacturer', name: 'GENENTECH USA' });
    const [greg] = docsOf('inteligenz-x12parser/_856/FromGregarican.txt', 'ship_notice');
    expect(greg.lines[0]).toMatchObject({ upc: '883932284904', quantityShipped: 1, poNumber: 'SO/VINCE1', packMark: '00007121610006156802' });
    const [ex1] = docsOf('inteligenz-x12parser/_856/Example1.txt', 'ship_notice');
    expect(ex1.lines.map((l) => [l.lineNumber, l.quantityShipped, l.uom, l.poNumber])).toEqual([['001', 16, 'PC', '123456'], ['002', 23, 'LB', '123456'], ['004', 16, 'PC', '123456']]);
  });
});

function find(nodes: HlNode[], pred: (n: HlNode) => boolean): HlNode | undefined {
  for (const n of nodes) {
    const hit = pred(n) ? n : find(n.children, pred);
    if (hit) return hit;
  }
  return undefined;
}

describe('invoices (810)', () => {
  /** Line amounts plus line and invoice charges, less allowances. */
  const computed = (inv: DocumentOf<'invoice'>) => {
    const signed = (c: { indicator?: string; amount?: number }) => (c.indicator === 'C' ? c.amount ?? 0 : c.indicator === 'A' ? -(c.amount ?? 0) : 0);
    return sum([...inv.lines.map((l) => l.quantityInvoiced! * l.unitPrice!), ...inv.lines.flatMap((l) => l.charges.map(signed)), ...inv.charges.map(signed)]);
  };

  it('reads TDS01 as cents: both invoices of simple810 total 2554.38, which only the first one\'s lines add up to', () => {
    const [a, b] = docsOf('xlate-staedi/simple810.edi', 'invoice');
    expect([a.invoiceNumber, a.poNumber, a.documentDate, a.totals?.amount, a.totals?.lineCount, a.lines.length]).toEqual(['00001', 'A99999-01', '1997-12-11', 2554.38, 7, 7]);
    expect([b.invoiceNumber, b.poNumber, b.documentDate, b.totals?.amount, b.totals?.lineCount, b.lines.length]).toEqual(['00001', 'A99999-04', '1997-12-15', 2554.38, 2, 2]);
    expect(computed(a)).toBe(2554.38);
    expect(computed(b)).toBe(1851);
    expect(a.lines[0]).toMatchObject({ quantityInvoiced: 16, uom: 'CA', unitPrice: 12.34, upcCase: '002840022222', description: 'CRUNCHY CHIPS LSS' });
    expect(a.terms).toEqual([{ type: '01', discountPercent: 1, discountDays: 15, netDays: 16, description: '1/15 NET 30' }]);
    expect(a.parties.map((p) => p.role)).toEqual(['ship_to', 'bill_to', 'remit_to']);
  });

  it('adds line charges and allowances (SAC05 in cents) to reach TDS01', () => {
    const [m1, m2] = docsOf('inteligenz-x12parser/_810/Example3_MultiInvoice.txt', 'invoice');
    const [walmart] = docsOf('inteligenz-x12parser/_810/Example5_Walmart.txt', 'invoice');
    expect([m1.totals?.amount, computed(m1), m2.totals?.amount, computed(m2), walmart.totals?.amount, computed(walmart)]).toEqual([8432.02, 8432.02, 1129.92, 1129.92, 3875.3, 3875.3]);
    expect(walmart.lines[0].charges).toEqual([{ indicator: 'A', code: 'I410', amount: 23.5, handling: '02' }]);
    expect(walmart).toMatchObject({ invoiceNumber: '6463367', poNumber: '3376103367', bolNumber: '123456789', carrier: { scac: 'RDWT', transportMethod: 'T' }, references: { vendorNumber: '123456170', department: '00017' } });
    expect(walmart.lines[0]).toMatchObject({ buyerPart: '001719653', upc: '022108955228', gtin: '00221089552284' });
    const [moov] = docsOf('moov-io-x12/sample.txt', 'invoice');
    expect([moov.invoiceNumber, moov.extra['REF.IV'], moov.totals?.amount, moov.bolNumber]).toEqual(['654983115', ['204841'], 1395.5, 'W44FNZ1179123']);
  });
});

describe('shipment status (214)', () => {
  it('reads B10, L11 and each LX with its AT7 status, reason, date, time and place', () => {
    const [s] = docsOf('indice-co-edi-net/214-MGCTLYST-SAMPLE.EDI', 'shipment_status');
    expect(s).toMatchObject({ proNumber: '1751807', shipmentId: '75027674', carrier: { scac: 'SCAC' }, x12: { testMode: true, version: '004030' } });
    expect(s.lines).toEqual([expect.objectContaining({ lineNumber: '1', status: 'D1', reasonCode: 'NS', date: '2016-07-26', time: '12:30', timeCode: 'LT', location: { city: 'BRATTLEBORO', state: 'VT' }, equipment: { scac: 'SCAC', number: '30402' } })]);
    const [e] = docsOf('xlate-staedi/ts214_ellipses_segterm.edi', 'shipment_status');
    expect(e.poNumber).toBe('900169');
    expect(e.lines.map((l) => [l.status, l.reasonCode, l.date, l.time, l.timeCode, l.weight, l.ladingQuantity])).toEqual([['AG', 'NS', '2020-09-11', '11:59', 'ET', undefined, undefined], ['AF', 'NS', '2020-09-10', '11:35', 'ET', 2085, 5]]);
  });

  it('reads all 19 Canada Post sets, matching a plain text scan of their AT7 segments', () => {
    const file = 'jf-tech-omniparser/1_canadapost_edi_214.input.txt';
    const all = docsOf(file, 'shipment_status');
    const scanned = readFileSync(path.join(ROOT, file), 'utf8').split('\nST*214*').slice(1).map((chunk) => chunk.split('\n').filter((l) => l.startsWith('AT7*')).map((l) => l.split('*')));
    expect(all).toHaveLength(19);
    expect(all.map((d) => d.lines.map((l) => [l.status, l.reasonCode, `${l.date?.replace(/-/g, '')}`, l.time?.replace(':', ''), l.timeCode ?? '']))).toEqual(scanned.map((at7s) => at7s.map((a) => [a[1], a[2], a[5], a[6], a[7]])));
    expect(all.slice(0, 3).map((d) => [d.proNumber, d.lines[0].status, d.lines[0].reasonCode])).toEqual([['4343638097845589', 'XB', 'NS'], ['4343638098050296', 'AH', 'AG'], ['4343638931638575', 'CA', 'BT']]);
    expect(all[0].extra).toEqual({ 'L11.97': ['4343638097845589'], 'L11.86': ['0000'] });
  });
});

describe('warehouse sets (940, 945, 947)', () => {
  it('reads 945 W12 shipped quantities, lots and weights that add up to W03', () => {
    const [advice] = docsOf('inteligenz-x12parser/_945/inter-americanproducts.txt', 'warehouse_shipping_advice');
    expect(advice.lines.map((l) => [l.lineNumber, l.status, l.quantityOrdered, l.quantityShipped, l.buyerPart, l.lot, l.weight])).toEqual([
      ['1', 'CL', 120, 120, '339408', '19284', 6600], ['2', 'CL', 400, 400, '100021', '82943', 20000], ['3', 'CL', 400, 400, '133848', '930345', 20000],
    ]);
    expect([advice.shipmentId, advice.depositorOrderNumber, advice.documentDate, advice.dates.shipped, advice.x12.testMode]).toEqual(['2144', undefined, '2002-09-16', '2002-09-16', true]);
    expect([sum(advice.lines.map((l) => l.quantityShipped)), sum(advice.lines.map((l) => l.weight))]).toEqual([advice.totals?.quantity, advice.totals?.weight]);
  });

  it('pairs the generated 940 and 945 on the depositor order and finds what was shipped short', () => {
    const [order] = docsOf('generated/940-order.edi', 'warehouse_shipping_order');
    const [advice] = docsOf('generated/945-short.edi', 'warehouse_shipping_advice');
    expect([order.depositorOrderNumber, order.poNumber, advice.depositorOrderNumber, advice.poNumber]).toEqual(['SO-240117', 'PO-88123', 'SO-240117', 'PO-88123']);
    const short = order.lines.flatMap((o) => {
      const shipped = advice.lines.find((a) => a.sku === o.sku)?.quantityShipped ?? 0;
      return shipped < o.quantityOrdered! ? [[o.sku, o.quantityOrdered, shipped, advice.lines.find((a) => a.sku === o.sku)?.status]] : [];
    });
    expect(short).toEqual([['TB-2200-OAK', 4, 1, 'BP'], ['LMP-90-WHT', 20, 16, 'CP']]);
    expect(advice.lines.every((l) => l.quantityOrdered! - l.quantityShipped! === l.quantityDifference)).toBe(true);
    expect([order.totals?.quantity, sum(order.lines.map((l) => l.quantityOrdered)), advice.totals?.quantity, sum(advice.lines.map((l) => l.quantityShipped))]).toEqual([36, 36, 29, 29]);
    expect(order).toMatchObject({ dates: { requestedShip: '2026-03-12', requestedDelivery: '2026-03-16' }, carrier: { scac: 'ODFL', paymentMethod: 'PP' }, references: { customerOrderNumber: 'HF-55120' } });
    expect(advice).toMatchObject({ shipmentId: 'SHP-99018', bolNumber: '00078742091834571', proNumber: '7712940022', dates: { shipped: '2026-03-12' } });
  });

  it('reads 940 W01 lines, and leaves shifted elements out rather than misreading them', () => {
    const [o] = docsOf('olmelabs-ediengine/940.OK.edi', 'warehouse_shipping_order');
    expect(o.lines.map((l) => [l.lineNumber, l.quantityOrdered, l.uom, l.upcCase, l.vendorPart, l.lot, l.description])).toEqual([
      ['1', 12, 'CA', '000100000010', '000100', '19991205', '11.500 STRUD BLUBRY'], ['2', 32, 'CA', '000000000220', '000200', '19991207', '11.500 STRUD CINN'], ['3', 12, 'CA', '000000000330', '000300', '20000107', '11.500 STRUDEL RASPBRY'],
    ]);
    expect([o.depositorOrderNumber, o.x12.testMode, o.totals?.quantity]).toEqual(['538686', false, 56]);
    const [broken] = docsOf('olmelabs-ediengine/940_Failed_SE01.edi', 'warehouse_shipping_order');
    const b = broken.lines[0];
    expect([b.quantityOrdered, b.uom, b.upcCase, b.vendorPart, b.upc, b.extra['W01.03']]).toEqual([undefined, undefined, undefined, '110220', '871209028795', ['EA']]);
    const [simplot] = docsOf('inteligenz-x12parser/_940/simplot.txt', 'warehouse_shipping_order');
    expect([simplot.totals?.quantity, sum(simplot.lines.map((l) => l.quantityOrdered)), simplot.totals?.weight, sum(simplot.lines.map((l) => l.weight))]).toEqual([1161, 1161, 44118, 44118]);
  });

  it('reads the generated 947: W19 reason codes with signed quantities, damage included', () => {
    const [adj] = docsOf('generated/947-damaged.edi', 'inventory_adjustment');
    expect([adj.adjustmentNumber, adj.depositorAdjustmentNumber, adj.documentDate, adj.x12.testMode]).toEqual(['ADJ-77120', 'DEP-5531', '2026-03-12', true]);
    expect(adj.lines.map((l) => [l.reasonCode, l.quantityAdjusted, l.uom, l.sku, l.lot, l.description])).toEqual([
      ['AU', -3, 'CA', 'CH-4410-BLK', 'L26021', 'DINING CHAIR BLACK 2PK'], ['AV', -1, 'CA', 'TB-2200-OAK', 'L25110', 'COFFEE TABLE OAK'], ['AA', 2, 'EA', 'LMP-90-WHT', undefined, 'TABLE LAMP WHITE'],
    ]);
    expect(adj.lines[0]).toMatchObject({ weight: 27.6, weightUom: 'L', extra: { 'N9.ZZ': ['FORKLIFT DAMAGE DOCK 4'] } });
    expect(adj.parties.map((p) => [p.role, p.id])).toEqual([['warehouse', '0614532870000'], ['depositor', '0078742000008']]);
  });
});

describe('inventory advice (846)', () => {
  it('reads each LIN with its QTY quantities, units from QTY03 or UIT, and dates inside the QTY loop', () => {
    const [a] = docsOf('inteligenz-x12parser/_846/Example1.txt', 'inventory_advice');
    expect([a.documentDate, a.reportType, a.referenceNumber, a.currency]).toEqual(['2004-08-11', 'CM', '10353', 'USD']);
    expect(a.lines[0].buyerPart).toBe('46L5055');
    expect(a.lines[0].quantities.map((q) => [q.qualifier, q.name, q.quantity, q.uom])).toEqual([['34', 'noncommittedOnShelf', 5250, 'EA'], ['QH', 'onHold', 100, 'EA'], ['QB', undefined, 50, 'EA'], ['87', 'received', 75, 'EA']]);
    const [b] = docsOf('inteligenz-x12parser/_846/Example2.txt', 'inventory_advice');
    expect(b.lines.map((l) => [l.buyerPart, l.unitPrice, l.quantities.map((q) => `${q.name}:${q.quantity}:${q.uom ?? '-'}`).join(' ')])).toEqual([
      ['38490-B', 2.6, 'onHand:1998.61:FT'], ['38499-B', 3, 'onHand:1777.18:FT'], ['38496-B', 2.83, 'onOrder:1000:FT'], ['38502-B', 3.26, 'onHand:3621.25:FT'], ['35933', 0.567, 'onHand:7280:-'],
    ]);
    expect(b.lines[2].quantities[0].dates).toEqual({ estimatedArrival: '2003-08-22' });
  });
});

describe('acknowledgments (997, 999, TA1)', () => {
  it('reads the acknowledged group, each set\'s code with its errors, and AK9 with its counts', () => {
    const [simple] = docsOf('azoner-pyx12/simple1.997.base', 'functional_ack');
    expect(simple).toMatchObject({ ackedGroup: { functionalId: 'HC', controlNumber: '17' }, status: 'R', setsIncluded: 1, setsReceived: 1, setsAccepted: 0 });
    expect(simple.sets).toEqual([{ setId: '837', controlNumber: '11280001', status: 'R', errorCodes: ['5'], segmentErrors: [{ segmentId: 'BHT', position: 1, code: '3', elementErrors: [] }, { segmentId: 'HL', position: 1, code: '3', elementErrors: [] }] }]);
    const [bad] = docsOf('azoner-pyx12/bad_elements.997.base', 'functional_ack');
    expect(bad.sets[0].errorCodes).toEqual(['4', '5']);
    expect(bad.sets[0].segmentErrors.at(-1)).toEqual({ segmentId: 'CLM', position: 23, code: '8', elementErrors: [{ position: 5, component: 1, elementRef: '1331', code: '7', badValue: '95' }] });
    const trailer = docs('azoner-pyx12/trailer_errors.997.base');
    expect(trailer.map((d) => d.type)).toEqual(['functional_ack', 'technical_ack']);
    const fa = trailer[0] as DocumentOf<'functional_ack'>;
    expect([fa.sets.map((s) => `${s.controlNumber}:${s.status}:${s.errorCodes.join(',')}`), fa.status, fa.setsAccepted, fa.errorCodes]).toEqual([['300207436:R:4', '300207437:A:'], 'R', 1, ['4']]);
  });

  it('reads 999 IK5 codes, IK3/IK4 errors with CTX context, and AK9 P (partially accepted)', () => {
    for (const file of ['xlate-staedi/simple999.edi', 'inteligenz-x12parser/Acknowledgments/_999/DHS_Wisconsin_Sample.txt']) {
      const [ack] = docsOf(file, 'functional_ack');
      expect([ack.x12.implementationRef, ack.status, ack.setsIncluded, ack.setsReceived, ack.setsAccepted]).toEqual(['005010X231', 'P', 3, 3, 1]);
      expect(ack.sets.map((s) => [s.status, s.errorCodes])).toEqual([['A', []], ['R', ['5']], ['R', ['5']]]);
      expect(ack.sets[1].segmentErrors).toEqual([{ segmentId: 'CLM', position: 22, code: '8', context: ['CLM01:123456789'], elementErrors: [{ position: 2, elementRef: '782', code: '1' }] }]);
      expect(ack.sets[2].segmentErrors[0]).toMatchObject({ segmentId: 'REF', position: 57, code: '3' });
    }
    const [invalid] = docsOf('xlate-staedi/invalid999.edi', 'functional_ack');
    expect([invalid.sets[0].status, invalid.sets[0].implementationRef, invalid.extra['IK5.01']]).toEqual(['A', 'X', ['Q']]);
    expect(docsOf('azoner-pyx12/834_lui_id_5010.999.txt', 'functional_ack').map((d) => [d.x12.groupControlNumber, d.x12.controlNumber, d.status])).toEqual([['344666205', '0001', 'A'], ['344666205', '0002', 'A'], ['102', '0003', 'A'], ['102', '0004', 'A']]);
    const [empty] = docsOf('xlate-staedi/empty997.edi', 'functional_ack');
    expect([empty.sets, empty.status, empty.ackedGroup]).toEqual([[], undefined, undefined]);
  });

  it('reads TA1: acknowledged control number, date and time, TA104 code and TA105 note', () => {
    const rows = (file: string) => docsOf(file, 'technical_ack').map((d) => [d.ackedInterchangeControlNumber, d.ackedDate, d.ackedTime, d.status, d.noteCode]);
    expect(rows('inteligenz-x12parser/Acknowledgments/TechnicalAcknowledgment_Sample1.txt')).toEqual([['0659', '2011-09-22', '05:12', 'A', undefined], ['0660', '2011-09-22', '05:12', 'A', undefined]]);
    expect(rows('inteligenz-x12parser/Acknowledgments/TechnicalAcknowledgment_SampleFromJeffN825.txt')).toEqual([['900000001', '2010-06-24', '14:30', 'R', '006']]);
    expect(rows('xlate-staedi/x12_interchange_ack.txt')).toEqual([['000000050', '2020-02-29', '12:00', 'A', '000']]);
    expect(docs('azoner-pyx12/trailer_errors.997.base')[1]).toMatchObject({ ackedInterchangeControlNumber: '000484950', ackedDate: '2004-08-20', status: 'R', noteCode: '018' });
  });
});

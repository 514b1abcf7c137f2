import type { EntityManager } from 'typeorm';
import type { RunningHub } from '../../src/hub.js';
import { DocumentMatching } from '../../src/matching/document-matching.service.js';
import { ExpectedDocuments } from '../../src/matching/expected-documents.service.js';
import { MatchCases } from '../../src/matching/match-cases.js';
import { MatchLedger } from '../../src/matching/match-ledger.service.js';
import { ADMIN_KEY, api, newWorld, startInProcess, waitFor, type TestWorld } from '../support/hub-harness.js';
import { fixture, interchange } from '../support/x12-fixtures.js';

// acme-supply's tolerances come from policies/matching/matching.json: quantity 1 or 2 %, unit price 1 %, total 5.00, 855 within 24 h.
const SUPPLIER = { id: 'acme-supply', name: 'Acme Supply', isa: { qualifier: 'ZZ', id: 'ACMESUPPLY' }, ack: '997' };
const EDI = { id: 'edi', type: 'x12', name: 'EDI gateway', config: { system: 'edi-gateway', mapping: 'x12-documents', us: { qualifier: 'ZZ', id: 'ACMEHOME' }, partners: [SUPPLIER] } };

let isa = 1000;
type Hub = RunningHub & { url: string };

async function post(hub: Hub, body: Buffer | string, query = 'wait=10', connector = 'edi') {
  const res = await fetch(`${hub.url}/v1/connectors/${connector}/messages?${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/edi-x12' },
    body,
  });
  return { status: res.status, body: (await res.json()) as any };
}

/** Our 850 to the supplier, posted as an outbound copy. Lines: [sku, qty, price]. */
const po = (n: string, lines: [string, number, number][], dates: string[] = []) =>
  interchange({
    from: 'ACMEHOME', to: 'ACMESUPPLY', isa13: isa++, functionalId: 'PO',
    sets: [{ id: '850', control: '0001', body: [`BEG*00*SA*${n}**20261120`, ...dates, ...lines.map(([sku, q, p], i) => `PO1*${i + 1}*${q}*EA*${p}**VP*${sku}`), `CTT*${lines.length}`] }],
  });
const asn = (shipment: string, poNumber: string, lines: [string, number][], shipped = '20261127') =>
  interchange({
    from: 'ACMESUPPLY', to: 'ACMEHOME', isa13: isa++, functionalId: 'SH',
    sets: [{
      id: '856', control: '0001',
      body: [`BSN*00*${shipment}*20261127*1200`, `DTM*011*${shipped}`, 'HL*1**S', 'HL*2*1*O', `PRF*${poNumber}`,
        ...lines.flatMap(([sku, q], i) => [`HL*${i + 3}*2*I`, `LIN**VP*${sku}`, `SN1**${q}*EA`]), `CTT*${lines.length}`],
    }],
  });
const invoice = (n: string, poNumber: string, lines: [string, number, number][]) =>
  interchange({
    from: 'ACMESUPPLY', to: 'ACMEHOME', isa13: isa++, functionalId: 'IN',
    sets: [{ id: '810', control: '0001', body: [`BIG*20261128*${n}**${poNumber}`, ...lines.map(([sku, q, p], i) => `IT1*${i + 1}*${q}*EA*${p}**VP*${sku}`),
      `TDS*${Math.round(lines.reduce((t, [, q, p]) => t + q * p, 0) * 100)}`, `CTT*${lines.length}`] }],
  });
const ack855 = (poNumber: string) =>
  interchange({ from: 'ACMESUPPLY', to: 'ACMEHOME', isa13: isa++, functionalId: 'PR', sets: [{ id: '855', control: '0001', body: [`BAK*00*AC*${poNumber}*20261121`, 'PO1*1*10*EA*5**VP*X-1', 'ACK*IA*10*EA', 'CTT*1'] }] });

describe('document matching through the pipeline', () => {
  let world: TestWorld;
  let hub: Hub;
  const caseOf = async (key: string) => (await api(hub.url, 'GET', `/v1/cases?correlationKey=${encodeURIComponent(key)}`)).body.items[0];
  const detail = async (id: string) => (await api(hub.url, 'GET', `/v1/cases/${id}`)).body;

  beforeAll(async () => {
    world = newWorld({ HUB_WATCH_INTERVAL_MS: '3600000' });
    hub = await startInProcess(world);
    expect((await api(hub.url, 'POST', '/v1/connectors', { body: EDI })).status).toBe(201);
  });
  afterAll(async () => {
    await hub?.close();
    await world?.drop();
  });

  it('raises PO_ACK_MISSING when the timer fires, resolves it when the 855 arrives late; an 855 in time cancels the timer', async () => {
    const expected = hub.app.get(ExpectedDocuments);
    const p = await post(hub, po('PO-400', [['SKU-A', 10, 5]]), 'wait=10&direction=outbound');
    await post(hub, po('PO-401', [['SKU-A', 10, 5]]), 'wait=10&direction=outbound');
    await post(hub, ack855('PO-401'));
    const { rows: timers } = await world.db.query(`SELECT po_number, kind, status, due_at FROM expected_documents WHERE po_number IN ('PO-400', 'PO-401') ORDER BY po_number`);
    expect(timers.map((t) => [t.po_number, t.kind, t.status])).toEqual([['PO-400', 'po_ack', 'waiting'], ['PO-401', 'po_ack', 'fulfilled']]);

    // A clock 23 h 59 m later: not due yet. 24 h 1 m: due (acme-supply window is 24 h).
    const received = new Date(timers[0].due_at).getTime() - 24 * 3_600_000;
    expect(await expected.fireDue(new Date(received + 24 * 3_600_000 - 60_000))).toBe(0);
    expect(await expected.fireDue(new Date(received + 24 * 3_600_000 + 60_000))).toBe(1);
    expect(await expected.fireDue(new Date(received + 48 * 3_600_000))).toBe(0);
    const c = await caseOf('po-ack-missing:acme-supply:PO-400');
    expect(c).toMatchObject({ code: 'PROCUREMENT.PO_ACK_MISSING', status: 'open' });
    expect((await detail(c.id)).exceptions[0]).toMatchObject({ messageId: p.body.messageId, references: { po: 'PO-400', supplier: 'acme-supply' } });
    expect(await caseOf('po-ack-missing:acme-supply:PO-401')).toBeUndefined();

    const late = await post(hub, ack855('PO-400'));
    const after = await detail(c.id);
    expect(after).toMatchObject({ status: 'resolved', rootCause: 'SUPPLIER_ERROR' });
    expect(after.resolutionNote).toMatch(new RegExp(`PO acknowledgment \\(855\\) arrived after its due time .*\\(message ${late.body.messageId}\\)`));
  });

  it('ship notice first: PO unknown; the PO arriving later clears it and resolves the case (NO_ISSUE, audited, case.resolved event)', async () => {
    const a = await post(hub, asn('SH-1', 'PO-100', [['SKU-A', 100], ['SKU-B', 50]]));
    expect(a.body.status).toBe('routed');
    const c = await caseOf('asn-match:acme-supply:PO-100');
    expect(c).toMatchObject({ code: 'PROCUREMENT.ASN_MISMATCH', status: 'open', ownerTeam: 'procurement' });
    expect((await detail(c.id)).exceptions[0].attributes.findings).toEqual([{ kind: 'po_unknown', amountAtRisk: 0 }]);

    const p = await post(hub, po('PO-100', [['SKU-A', 100, 10], ['SKU-B', 50, 4]]), 'wait=10&direction=outbound');
    expect(p.body.status).toBe('parsed');
    const after = await detail(c.id);
    expect(after).toMatchObject({ status: 'resolved', rootCause: 'NO_ISSUE' });
    expect(after.resolutionNote).toMatch(/purchase order arrived, purchase order PO-100/);
    const resolved = after.timeline.find((t: any) => t.action === 'case.resolved');
    expect(resolved.after).toMatchObject({ autoResolved: true, clearedBy: { type: 'purchase_order', messageId: p.body.messageId } });
    // Read from the outbox table: the feed holds events back while any older transaction on the server runs.
    const { rows: events } = await world.db.query(`SELECT payload FROM outbox_events WHERE case_id = $1 AND type = 'case.resolved'`, [c.id]);
    expect(events).toHaveLength(1);
    expect(events[0].payload.change).toMatchObject({ action: 'case.resolved', by: { type: 'system', id: 'hub' } });
  });

  it('short shipment: line-level difference and amount at risk; a replacement ship notice clears and auto-resolves it (SUPPLIER_ERROR)', async () => {
    await post(hub, po('PO-200', [['SKU-A', 100, 10], ['SKU-B', 50, 4]]), 'wait=10&direction=outbound');
    await post(hub, asn('SH-2', 'PO-200', [['SKU-A', 100], ['SKU-B', 40], ['SKU-X', 3]]));
    const c = await caseOf('asn-match:acme-supply:PO-200');
    expect(c).toMatchObject({ status: 'open', amountAtRisk: '40.00' });
    const e = (await detail(c.id)).exceptions[0];
    expect(e.references).toMatchObject({ po: 'PO-200', asn: 'SH-2', supplier: 'acme-supply' });
    expect(e.attributes.findings).toEqual([
      { kind: 'sku_not_on_po', sku: 'SKU-X', actual: 3, shipmentId: 'SH-2', amountAtRisk: 0 },
      { kind: 'short_shipped', line: '2', sku: 'SKU-B', expected: 50, actual: 40, difference: -10, allowed: 1, unitPrice: 4, amountAtRisk: 40 },
    ]);
    // The same shipment again (BSN05-style replacement: same BSN02) with the right quantities.
    const fix = await post(hub, asn('SH-2', 'PO-200', [['SKU-A', 100], ['SKU-B', 49]]));
    const after = await detail(c.id);
    expect(after).toMatchObject({ status: 'resolved', rootCause: 'SUPPLIER_ERROR' });
    expect(after.resolutionNote).toBe(`cleared by corrective document ship notice SH-2 (message ${fix.body.messageId})`);
  });

  it('invoices: 2-way price over tolerance, 3-way quantity over shipped; a corrected invoice auto-resolves; edges of the tolerances', async () => {
    await post(hub, po('PO-300', [['SKU-A', 100, 10], ['SKU-B', 50, 4]]), 'wait=10&direction=outbound');
    // 2-way (no ship notice yet): SKU-A at 10.10 is exactly 1 % over (passes), SKU-B at 4.05 is 1.25 % over (fails).
    await post(hub, invoice('INV-1', 'PO-300', [['SKU-A', 100, 10.1], ['SKU-B', 50, 4.05]]));
    const c = await caseOf('invoice-match:acme-supply:PO-300:INV-1');
    expect(c).toMatchObject({ code: 'FINANCE.INVOICE_DISCREPANCY', ownerTeam: 'finance-ap' });
    const e = (await detail(c.id)).exceptions[0];
    expect(e.attributes.mode).toBe('2-way');
    expect(e.attributes.findings.map((f: any) => [f.kind, f.sku])).toEqual([['unit_price', 'SKU-B'], ['total_amount', undefined]]);
    expect(e.amountAtRisk).toEqual({ amount: 12.5, currency: 'USD' });

    // Corrected invoice (same number): 10.10 and 4.04 are both exactly at 1 %, total 12.00 over... beyond 5.00, so still flagged.
    await post(hub, invoice('INV-1', 'PO-300', [['SKU-A', 100, 10.1], ['SKU-B', 50, 4.04]]));
    expect((await detail(c.id)).exceptions.map((x: any) => x.attributes.findings.map((f: any) => f.kind))).toEqual([['unit_price', 'total_amount'], ['total_amount']]);
    // Then right: total within 5.00 → resolved.
    const ok = await post(hub, invoice('INV-1', 'PO-300', [['SKU-A', 100, 10.05], ['SKU-B', 50, 4]]));
    expect(await detail(c.id)).toMatchObject({ status: 'resolved', rootCause: 'SUPPLIER_ERROR', resolutionNote: `cleared by corrective document invoice INV-1 (message ${ok.body.messageId})` });

    // 3-way: a ship notice of 40 SKU-B makes an invoice for 50 wrong (tolerance max(1, 2 % of 40) = 1); 41 passes, 42 fails.
    await post(hub, asn('SH-3', 'PO-300', [['SKU-A', 100], ['SKU-B', 40]]));
    await post(hub, invoice('INV-2', 'PO-300', [['SKU-B', 41, 4]]));
    expect(await caseOf('invoice-match:acme-supply:PO-300:INV-2')).toBeUndefined();
    await post(hub, invoice('INV-3', 'PO-300', [['SKU-B', 42, 4]]));
    const c3 = await detail((await caseOf('invoice-match:acme-supply:PO-300:INV-3')).id);
    expect(c3.exceptions[0].attributes).toMatchObject({ mode: '3-way', findings: [
      { kind: 'quantity_vs_shipped', line: '2', sku: 'SKU-B', expected: 40, actual: 42, difference: 2, allowed: 1, unitPrice: 4, amountAtRisk: 8 },
      { kind: 'total_amount', expected: 160, actual: 168, difference: 8, allowed: 5, amountAtRisk: 8 },
    ] });
    // Cases matching opened or re-opened have their SLA clocks, written with the pipeline's end writes (the
    // ship notice SH-3 opened one case and re-opened another in one run: two sets of clocks in one statement),
    // and the cases show the running clocks' due times.
    const { rows: clocks } = await world.db.query(
      `SELECT c.correlation_key AS key, c.reopen_count AS reopens, c.status,
              count(k.id) FILTER (WHERE k.status = 'running' AND k.task_id IS NULL)::int AS running,
              bool_and(k.status <> 'running' OR k.task_id IS NOT NULL OR k.due_at = CASE k.kind WHEN 'acknowledge' THEN c.ack_due_at ELSE c.resolve_due_at END) AS mirrored
         FROM cases c LEFT JOIN sla_clocks k ON k.case_id = c.id
        WHERE c.correlation_key LIKE '%PO-300%' GROUP BY c.id ORDER BY c.correlation_key`);
    expect(clocks).toEqual([
      { key: 'asn-match:acme-supply:PO-300', reopens: 0, status: 'open', running: 2, mirrored: true },
      { key: 'invoice-match:acme-supply:PO-300:INV-1', reopens: 1, status: 'open', running: 2, mirrored: true },
      { key: 'invoice-match:acme-supply:PO-300:INV-3', reopens: 0, status: 'open', running: 2, mirrored: true },
    ]);
  });

  it('raises ASN_MISSING when no 856 came before the requested delivery date', async () => {
    const expected = hub.app.get(ExpectedDocuments);
    await post(hub, po('PO-500', [['SKU-A', 10, 5]], ['DTM*002*20261215']), 'wait=10&direction=outbound');
    const { rows } = await world.db.query(`SELECT due_at FROM expected_documents WHERE po_number = 'PO-500' AND kind = 'ship_notice'`);
    expect(new Date(rows[0].due_at).toISOString()).toBe('2026-12-15T00:00:00.000Z');
    await expected.fireDue(new Date('2026-12-15T00:00:01Z'));
    expect(await caseOf('asn-missing:acme-supply:PO-500')).toMatchObject({ code: 'PROCUREMENT.ASN_MISSING', status: 'open' });
    await post(hub, asn('SH-5', 'PO-500', [['SKU-A', 10]]));
    expect(await caseOf('asn-missing:acme-supply:PO-500')).toMatchObject({ status: 'resolved' });
  });

  it('PO and ship notice stored by concurrent workers still find each other (per-PO lock)', async () => {
    for (let i = 0; i < 5; i++) {
      const n = `PO-60${i}`;
      const [x, y] = await Promise.all([post(hub, po(n, [['SKU-A', 10, 5]]), 'direction=outbound'), post(hub, asn(`SH-6${i}`, n, [['SKU-A', 10]]), '')]);
      for (const id of [x.body.messageId, y.body.messageId]) {
        await waitFor(async () => ((await api(hub.url, 'GET', `/v1/messages/${id}`)).body.status !== 'received' ? true : undefined));
      }
      const { rows } = await world.db.query(`SELECT has_findings FROM document_matches WHERE subject_key = $1`, [`acme-supply|prod|${n}|asn`]);
      expect(rows).toEqual([{ has_findings: false }]);
      const open = await caseOf(`asn-match:acme-supply:${n}`);
      expect(open === undefined || open.status === 'resolved').toBe(true);
    }
  });

  it('real samples (Stedi demo): the 850 we sent and the partner 855 for PO 365465413 fulfil the ack timer', async () => {
    const merchant = { id: 'another-merch', name: 'Another Merchant', isa: { qualifier: '14', id: 'ANOTHERMERCH' }, ack: '999' };
    const mk = (id: string, us: string) => ({ id, type: 'x12', name: id, config: { system: id, mapping: 'x12-documents', us: { qualifier: 'ZZ', id: us }, partners: [merchant] } });
    expect((await api(hub.url, 'POST', '/v1/connectors', { body: mk('stedi-out', 'AMERCHANT') })).status).toBe(201);
    expect((await api(hub.url, 'POST', '/v1/connectors', { body: mk('stedi-in', 'THISISME') })).status).toBe(201);
    const sent = await post(hub, fixture('stedi-demos-bootstrap-archived/input.edi'), 'wait=10&direction=outbound', 'stedi-out');
    expect(sent.body.status).toBe('parsed');
    const { rows: before } = await world.db.query(`SELECT kind, status, test_mode FROM expected_documents WHERE po_number = '365465413' AND kind = 'po_ack'`);
    expect(before).toEqual([{ kind: 'po_ack', status: 'waiting', test_mode: true }]);
    await post(hub, fixture('stedi-demos-bootstrap-archived/inbound.edi'), 'wait=10', 'stedi-in');
    const { rows: after } = await world.db.query(`SELECT status FROM expected_documents WHERE po_number = '365465413' AND kind = 'po_ack'`);
    expect(after).toEqual([{ status: 'fulfilled' }]);
  });

  it('keeps the matched lines with each document and matches again only what changed', async () => {
    const ledger = hub.app.get(MatchLedger);
    const matching = hub.app.get(DocumentMatching);
    // Which documents' lines each run reads (by type + reference), and how many subjects it found unchanged.
    const reads: string[][] = [];
    let unchanged = 0;
    const linesOf = ledger.linesOf.bind(ledger);
    const toState = ledger.toState.bind(ledger);
    const after = matching.afterDocumentsStored.bind(matching);
    // Lines read from the database: with a subject's state (current PO and ship notices, when a match is
    // likely due; every state read, the pipeline's own and matching's, goes through toState) or on their
    // own; the batch's own documents' lines are in memory and read from nowhere. Named after the step
    // (committed by then).
    ledger.linesOf = async (m, poNumber, ids) => {
      reads.push(ids);
      return linesOf(m, poNumber, ids);
    };
    let states = 0;
    // State reads matching makes itself (the pipeline makes the first subject's, so none for one-PO files).
    let ownReads = 0;
    const subjectState = ledger.subjectState.bind(ledger);
    ledger.subjectState = (m, s, q) => {
      ownReads++;
      return subjectState(m, s, q);
    };
    ledger.toState = (row) => {
      const state = toState(row);
      states++;
      reads.push([...state.lines.keys()]);
      return state;
    };
    matching.afterDocumentsStored = async (m, docs, held) => {
      const r = await after(m, docs, held);
      unchanged += r.unchanged;
      return r;
    };
    const step = async (body: string, query?: string) => {
      reads.length = 0;
      unchanged = 0;
      states = 0;
      ownReads = 0;
      const r = await post(hub, body, query);
      expect(r.status).toBeLessThan(300);
      const { rows } = await world.db.query(
        `SELECT DISTINCT document_id, type, coalesce(invoice_number, shipment_id, po_number) AS ref FROM document_match_lines WHERE document_id = ANY($1::uuid[])`, [reads.flat()]);
      const label = new Map(rows.map((x: { document_id: string; type: string; ref: string }) => [x.document_id, `${x.type}:${x.ref}`]));
      return { reads: reads.flat().map((id) => label.get(id) ?? id).sort(), unchanged, states, ownReads, messageId: r.body.messageId as string };
    };
    try {
      // The PO alone: its lines are kept (only the fields matching reads), nothing to match yet. One
      // state read per file (one PO each): the pipeline's status statement makes it, matching uses it.
      expect(await step(po('PO-700', [['SKU-A', 100, 10], ['SKU-B', 50, 4]]), 'wait=10&direction=outbound')).toMatchObject({ reads: [], states: 1, ownReads: 0 });
      const { rows: kept } = await world.db.query(`SELECT l.type, l.lines, l.content_hash, d.id = l.document_id AS same_document FROM document_match_lines l JOIN business_documents d ON d.id = l.document_id WHERE l.po_number = 'PO-700'`);
      expect(kept).toEqual([{ type: 'purchase_order', same_document: true, content_hash: expect.stringMatching(/^[0-9a-f]{32}$/),
        lines: { count: 2, values: { lineNumber: ['1', '2'], vendorPart: ['SKU-A', 'SKU-B'], quantityOrdered: [100, 50], unitPrice: [10, 4] } } }]);

      expect((await step(asn('SH-70', 'PO-700', [['SKU-A', 100], ['SKU-B', 50]]))).reads).toEqual(['purchase_order:PO-700']);
      // The same ship notice sent again (new interchange, same content) and an 855 change nothing: not matched again.
      expect(await step(asn('SH-70', 'PO-700', [['SKU-A', 100], ['SKU-B', 50]]))).toMatchObject({ reads: [], unchanged: 1, states: 1, ownReads: 0 });
      expect(await step(ack855('PO-700'))).toMatchObject({ reads: [], unchanged: 1, states: 1, ownReads: 0 });

      // Invoices: each new one is matched against the PO and what shipped (the resent ship notice, the
      // newest of SH-70, not the first); earlier invoices are not read again.
      expect((await step(invoice('INV-71', 'PO-700', [['SKU-A', 100, 10]]))).reads).toEqual(['purchase_order:PO-700', 'ship_notice:SH-70']);
      expect((await step(invoice('INV-72', 'PO-700', [['SKU-B', 50, 4]]))).reads).toEqual(['purchase_order:PO-700', 'ship_notice:SH-70']);
      expect(await caseOf('invoice-match:acme-supply:PO-700:INV-72')).toBeUndefined();
      const { rows: digests } = await world.db.query(`SELECT subject_key, inputs_digest FROM document_matches WHERE po_number = 'PO-700' ORDER BY subject_key`);
      expect(digests.map((d) => d.subject_key)).toEqual(['acme-supply|prod|PO-700|asn', 'acme-supply|prod|PO-700|invoice:INV-71', 'acme-supply|prod|PO-700|invoice:INV-72']);
      expect(digests.every((d) => /^[0-9a-f]{64}$/.test(d.inputs_digest))).toBe(true);

      // A replacement ship notice that changes what shipped: the ship notices and every invoice (3-way) are matched again.
      const changed = await step(asn('SH-70', 'PO-700', [['SKU-A', 100], ['SKU-B', 40]]));
      expect(changed.reads).toEqual(['invoice:INV-71', 'invoice:INV-72', 'purchase_order:PO-700']);
      expect(await caseOf('asn-match:acme-supply:PO-700')).toMatchObject({ status: 'open', amountAtRisk: '40.00' });
      const billed = await detail((await caseOf('invoice-match:acme-supply:PO-700:INV-72')).id);
      expect(billed.exceptions[0]).toMatchObject({ messageId: changed.messageId, attributes: { mode: '3-way', findings: [
        expect.objectContaining({ kind: 'quantity_vs_shipped', sku: 'SKU-B', expected: 40, actual: 50 }), expect.objectContaining({ kind: 'total_amount' }),
      ] } });
      expect(await caseOf('invoice-match:acme-supply:PO-700:INV-71')).toBeUndefined();
    } finally {
      ledger.linesOf = linesOf;
      ledger.toState = toState;
      ledger.subjectState = subjectState;
      matching.afterDocumentsStored = after;
    }
  });

  it('records a discrepancy under the subject lock alone: the noise controls take no locks of their own on its case key', async () => {
    const cases = hub.app.get(MatchCases);
    const raise = cases.raise.bind(cases);
    // Advisory locks this transaction holds once the finding is recorded (the subject's, plus any the noise controls took).
    const held: number[] = [];
    cases.raise = async (m: EntityManager, findings, ...rest) => {
      const r = await raise(m, findings, ...rest);
      if (!findings.length) return r;
      const [{ n }] = await m.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()`);
      held.push(n);
      return r;
    };
    try {
      await post(hub, po('PO-800', [['SKU-A', 10, 5]]), 'wait=10&direction=outbound');
      await post(hub, invoice('INV-80', 'PO-800', [['SKU-A', 10, 6]]));
      expect(await caseOf('invoice-match:acme-supply:PO-800:INV-80')).toMatchObject({ status: 'open' });
      expect(held).toEqual([1]);
      // A corrected invoice clears it, a new discrepancy within the day re-opens it: repeats and re-opens still work without those locks.
      await post(hub, invoice('INV-80', 'PO-800', [['SKU-A', 10, 5]]));
      expect(await caseOf('invoice-match:acme-supply:PO-800:INV-80')).toMatchObject({ status: 'resolved' });
      await post(hub, invoice('INV-80', 'PO-800', [['SKU-A', 10, 7]]));
      expect(await caseOf('invoice-match:acme-supply:PO-800:INV-80')).toMatchObject({ status: 'open', reopenCount: 1 });
    } finally {
      cases.raise = raise;
    }
  });

  it('records the findings of a large file in chunks, each with its own ordinal on the message; keeps every document\'s lines', async () => {
    // 520 ship notices for POs nobody sent: one PROCUREMENT.ASN_MISMATCH each (more than one chunk of
    // findings, and two INSERTs of documents, each keeping its documents' matched lines).
    const sets = Array.from({ length: 520 }, (_, i) => ({
      id: '856', control: String(1000 + i),
      body: [`BSN*00*SH-BULK-${i}*20261127*1200`, 'DTM*011*20261127', 'HL*1**S', 'HL*2*1*O', `PRF*PO-BULK-${i}`, 'HL*3*2*I', 'LIN**VP*BULK-1', 'SN1**1*EA', 'CTT*1'],
    }));
    const r = await post(hub, interchange({ from: 'ACMESUPPLY', to: 'ACMEHOME', isa13: isa++, functionalId: 'SH', sets }), 'wait=30');
    expect([200, 202]).toContain(r.status);
    await waitFor(async () => (await world.db.query(`SELECT 1 FROM inbound_messages WHERE id = $1 AND status = 'routed'`, [r.body.messageId])).rowCount === 1, 60000, 'bulk file routed');
    const { rows } = await world.db.query(
      `SELECT count(*)::int AS n, count(DISTINCT ordinal)::int AS ordinals, min(ordinal)::int AS lo, max(ordinal)::int AS hi, count(DISTINCT case_id)::int AS cases
         FROM exceptions WHERE message_id = $1 AND code = 'PROCUREMENT.ASN_MISMATCH'`,
      [r.body.messageId],
    );
    expect(rows[0]).toEqual({ n: 520, ordinals: 520, lo: 0, hi: 519, cases: 520 });
    const { rows: kept } = await world.db.query(`SELECT count(*)::int AS n FROM document_match_lines WHERE message_id = $1`, [r.body.messageId]);
    expect(kept[0].n).toBe(520);
    const { rows: msg } = await world.db.query(`SELECT exception_count, status FROM inbound_messages WHERE id = $1`, [r.body.messageId]);
    expect(msg[0]).toEqual({ exception_count: 520, status: 'routed' });
  });
});

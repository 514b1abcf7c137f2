import { randomUUID } from 'node:crypto';
import { binMidpoint, binOf } from '../../src/reporting/cycle-histogram.js';
import { ADMIN_KEY, api, newWorld, pickShortfall, postWebhook, startInProcess, waitFor, type TestWorld } from '../support/hub-harness.js';

/**
 * Report figures on a small fixed data set written straight into the hub's tables (the rollups
 * are built by the same triggers the pipeline fires), checked against hand-computed values.
 */
describe('reports', () => {
  let world: TestWorld;
  let hub: Awaited<ReturnType<typeof startInProcess>>;
  let viewerKey: string;

  const ex = async (o: { code: string; at: string; caseId?: string | null; connector?: string; site?: string; bu?: string; amount?: number | null; supplier?: string | null; test?: boolean }) => {
    const [category] = o.code.split('.');
    await world.db.query(
      `INSERT INTO exceptions (id, message_id, ordinal, code, category, severity, title, connector_id, document_type, test_mode, business_unit, site,
                               supplier_ref, amount_at_risk, currency, occurred_at, detected_at, correlation_key, mapping_id, mapping_version, case_id, payload)
       VALUES ($1, $2, 0, $3, $4, 'standard', 't', $5, 'fixture', $6, $7, $8, $9, $10, 'USD', $11, $11, 'k', 'm', '1', $12, '{"source":{"system":"fixture-sys"}}')`,
      [randomUUID(), randomUUID(), o.code, category, o.connector ?? 'wms-a', o.test ?? false, o.bu ?? 'west', o.site ?? 'RNO1', o.supplier ?? null,
       o.amount ?? null, o.at, o.caseId ?? null],
    );
  };
  const kase = async (o: { code: string; opened: string; team?: string; site?: string; resolveDue?: string | null; severity?: string; amount?: number }) => {
    const id = randomUUID();
    await world.db.query(
      `INSERT INTO cases (id, status, correlation_key, title, code, category, severity, owner_team, business_unit, site, exception_count, amount_at_risk, currency,
                          opened_at, updated_at, routing, resolve_due_at)
       VALUES ($1::uuid, 'open', 'fixture:' || $1::text, 't', $2, $3, $4, $5, 'west', $6, 1, $7, 'USD', $8, $8, '{}', $9)`,
      [id, o.code, o.code.split('.')[0], o.severity ?? 'standard', o.team ?? 'ops', o.site ?? 'RNO1', o.amount ?? null, o.opened, o.resolveDue ?? null],
    );
    return id;
  };
  const get = async (path: string, key = viewerKey) => {
    const r = await api(hub.url, 'GET', `/v1/reports/${path}`, { key });
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };

  beforeAll(async () => {
    world = newWorld();
    hub = await startInProcess(world);
    viewerKey = (await api(hub.url, 'POST', '/v1/api-keys', { body: { name: 'reports-viewer', role: 'viewer' } })).body.key;

    // Day buckets in America/Chicago across the end of DST (2026-11-01 02:00 CDT -> 01:00 CST: a 25-hour day).
    await ex({ code: 'ORDER.CREDIT_HOLD', at: '2026-11-01T04:30:00Z' }); // Oct 31 23:30 CDT
    await ex({ code: 'ORDER.CREDIT_HOLD', at: '2026-11-01T05:30:00Z' }); // Nov 1 00:30 CDT
    await ex({ code: 'ORDER.CREDIT_HOLD', at: '2026-11-02T05:30:00Z' }); // Nov 1 23:30 CST
    await ex({ code: 'ORDER.CREDIT_HOLD', at: '2026-11-02T06:30:00Z' }); // Nov 2 00:30 CST
    await ex({ code: 'ORDER.CREDIT_HOLD', at: '2026-11-02T06:40:00Z', test: true }); // test traffic: never counted

    // Root cause: a connector outage on wms-a, then shortfalls on wms-a 1 h (linked) and 5 h later (outside 4 h), and on wms-b (other connector).
    await ex({ code: 'INTEGRATION.CONNECTOR_DOWN', at: '2026-10-10T10:00:00Z', connector: 'wms-a' });
    await ex({ code: 'WAREHOUSE.PICK_SHORTFALL', at: '2026-10-10T11:00:00Z', connector: 'wms-a', amount: 100 });
    await ex({ code: 'WAREHOUSE.PICK_SHORTFALL', at: '2026-10-10T15:00:00Z', connector: 'wms-a', amount: 40 });
    await ex({ code: 'WAREHOUSE.PICK_SHORTFALL', at: '2026-10-10T11:30:00Z', connector: 'wms-b', site: 'DAL2', bu: 'south', amount: 7 });
    // A formula-looking site name, for CSV neutralization.
    await ex({ code: 'ORDER.PRICING_MISMATCH', at: '2026-10-11T09:00:00Z', site: '=HYPERLINK("x")', bu: '+east' });

    // Cases: three resolved in 10, 60 and 600 minutes; one resolve SLA (due after 120 min) so 1 of 3 tracked... see below.
    const c1 = await kase({ code: 'FINANCE.TAX_ERROR', opened: '2026-09-01T10:00:00Z', resolveDue: '2026-09-01T12:00:00Z', team: 'ap' });
    const c2 = await kase({ code: 'FINANCE.TAX_ERROR', opened: '2026-09-01T10:00:00Z', resolveDue: '2026-09-01T12:00:00Z', team: 'ap' });
    const c3 = await kase({ code: 'FINANCE.TAX_ERROR', opened: '2026-09-01T10:00:00Z', resolveDue: '2026-09-01T12:00:00Z', team: 'ap' });
    // Repeats: c1 gets three exceptions (two repeats), c2 one.
    for (const at of ['2026-09-01T10:00:00Z', '2026-09-01T10:05:00Z', '2026-09-01T10:07:00Z']) await ex({ code: 'FINANCE.TAX_ERROR', at, caseId: c1, connector: 'edi' });
    await ex({ code: 'FINANCE.TAX_ERROR', at: '2026-09-01T10:00:00Z', caseId: c2, connector: 'edi' });
    // Manual touches on c1 (two by people, one by the system).
    for (const actor of ['api-key', 'api-key', 'system']) {
      await world.db.query(`INSERT INTO audit_events (actor_type, actor_id, entity_type, entity_id, action) VALUES ($1, 'a', 'case', $2, 'case.commented')`, [actor, c1]);
    }
    for (const [id, ackMin, resMin] of [[c1, 5, 10], [c2, 20, 60], [c3, 30, 600]] as const) {
      await world.db.query(
        `UPDATE cases SET status = 'resolved', acknowledged_at = opened_at + $2 * interval '1 minute', resolved_at = opened_at + $3 * interval '1 minute' WHERE id = $1`,
        [id, ackMin, resMin],
      );
    }
    // Open cases for aging (ages as of now) and the critical list.
    await kase({ code: 'WAREHOUSE.PICK_SHORTFALL', opened: new Date(Date.now() - 2 * 3600e3).toISOString(), severity: 'critical', team: 'wh', resolveDue: new Date(Date.now() + 3600e3).toISOString(), amount: 50 });
    await kase({ code: 'WAREHOUSE.PICK_SHORTFALL', opened: new Date(Date.now() - 50 * 3600e3).toISOString(), team: 'wh', amount: 25 });

    // Partner documents: two POs, one 855 on time (2 h), one late (30 h); a rejected 997 out of two.
    const doc = (type: string, po: string, at: string, payload = '{}') =>
      world.db.query(`INSERT INTO business_documents (id, message_id, ordinal, type, connector_id, partner, po_number, received_at, payload)
                      VALUES ($1, $2, 0, $3, 'edi', 'S-ACME', $4, $5, $6)`, [randomUUID(), randomUUID(), type, po, at, payload]);
    await doc('purchase_order', 'P1', '2026-10-01T00:00:00Z');
    await doc('purchase_order', 'P2', '2026-10-01T00:00:00Z');
    await doc('po_acknowledgment', 'P1', '2026-10-01T02:00:00Z');
    await doc('po_acknowledgment', 'P2', '2026-10-02T06:00:00Z');
    await doc('functional_ack', 'P1', '2026-10-01T00:05:00Z', '{"status":"R"}');
    await doc('functional_ack', 'P2', '2026-10-01T00:05:00Z', '{"status":"A"}');
    await ex({ code: 'PROCUREMENT.ASN_MISMATCH', at: '2026-10-03T00:00:00Z', supplier: 'S-ACME', connector: 'edi' });
  });
  afterAll(async () => {
    await hub?.close();
    await world?.drop();
  });

  it('buckets days in the requested time zone, across a DST change, and skips test traffic', async () => {
    const range = 'from=2026-10-31T00:00:00Z&to=2026-11-03T00:00:00Z&code=ORDER.CREDIT_HOLD&groupBy=code';
    const chicago = await get(`volume?${range}&tz=America/Chicago&bucket=day`);
    expect(chicago.rows.map((r: any) => [r.bucket, r.start, r.exceptions])).toEqual([
      ['2026-10-31T00:00', '2026-10-31T05:00:00.000Z', 1],
      ['2026-11-01T00:00', '2026-11-01T05:00:00.000Z', 2],
      ['2026-11-02T00:00', '2026-11-02T06:00:00.000Z', 1],
    ]);
    // Exact to the hour: whole UTC days from the day rollup, the ends from the hour rollup.
    const edges = await get('headline?from=2026-10-31T05:00:00Z&to=2026-11-02T06:00:00Z&code=ORDER.CREDIT_HOLD');
    expect(edges.summary.exceptions).toBe(3);
    const utc = await get(`volume?${range}&bucket=day`);
    expect(utc.rows.map((r: any) => [r.bucket, r.exceptions])).toEqual([['2026-11-01T00:00', 2], ['2026-11-02T00:00', 2]]);
  });

  it('answers empty ranges with no rows and null rates', async () => {
    const empty = 'from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z';
    expect((await get(`volume?${empty}`)).rows).toEqual([]);
    expect((await get(`cycle-times?${empty}`)).rows).toEqual([]);
    expect((await get(`scorecards?${empty}`)).rows).toEqual([]);
    const h = (await get(`headline?${empty}`)).summary;
    expect(h).toMatchObject({ exceptions: 0, amountAtRisk: 0, repeatRate: null, slaBreachRate: null, resolveP50Minutes: null, casesResolved: 0 });
  });

  it('cycle-time percentiles, SLA breach rate, manual touches and repeats', async () => {
    const sep = 'from=2026-09-01T00:00:00Z&to=2026-09-02T00:00:00Z&team=ap';
    const cycle = (await get(`cycle-times?${sep}`)).rows;
    const resolve = cycle.find((r: any) => r.metric === 'resolve');
    // Resolved in 10, 60, 600 min: p50 is the 2nd (60 min), p90 the 3rd (600 min), each as its histogram bin's midpoint (within 10 %).
    expect(resolve.cases).toBe(3);
    expect(resolve.p50Minutes).toBeCloseTo(binMidpoint(binOf(60)), 1);
    expect(Math.abs(resolve.p50Minutes - 60) / 60).toBeLessThan(0.1);
    expect(Math.abs(resolve.p90Minutes - 600) / 600).toBeLessThan(0.1);
    const ack = cycle.find((r: any) => r.metric === 'acknowledge');
    expect(Math.abs(ack.p50Minutes - 20) / 20).toBeLessThan(0.1);
    // September whole from the month histograms: by team alone, and with every dimension (a site filter).
    expect((await get('cycle-times?from=2026-08-15T00:00:00Z&to=2026-10-15T00:00:00Z&team=ap')).rows).toEqual(cycle);
    expect((await get('cycle-times?from=2026-08-15T00:00:00Z&to=2026-10-15T00:00:00Z&team=ap&site=RNO1')).rows).toEqual(cycle);

    // Due 120 min after opening: only the 600-minute case breached.
    const sla = (await get(`sla?${sep}`)).rows.find((r: any) => r.target === 'resolve');
    expect(sla).toMatchObject({ cases: 3, slaTracked: 3, breached: 1, breachRate: 0.3333 });

    // The same figures when September comes whole from the month rollup.
    const wide = (await get('sla?from=2026-08-15T00:00:00Z&to=2026-10-15T00:00:00Z&team=ap')).rows.find((r: any) => r.target === 'resolve');
    expect(wide).toEqual(sla);
    expect((await get(`touches?${sep}`)).rows).toEqual([{ team: 'ap', resolvedCases: 3, manualTouches: 2, touchesPerCase: 0.67 }]);

    const rep = await get(`repeats?from=2026-09-01T00:00:00Z&to=2026-09-02T00:00:00Z&groupBy=code`);
    expect(rep.summary).toEqual({ exceptions: 4, repeats: 2, repeatRate: 0.5 });
  });

  it('links an integration failure to the shortfalls it caused and reports their cost', async () => {
    const rows = (await get('upstream-causes?from=2026-10-10T00:00:00Z&to=2026-10-11T00:00:00Z')).rows;
    expect(rows).toEqual([{
      rule: 'integration-failure-before-pick-shortfall', upstreamCode: 'INTEGRATION.CONNECTOR_DOWN', upstreamConnector: 'wms-a', matchedOn: 'wms-a',
      downstreamExceptions: 1, downstreamAmountAtRisk: 100, downstreamCodes: 'WAREHOUSE.PICK_SHORTFALL',
    }]);
    // October whole from the month rollup, the ends from days and hours: the same link.
    expect((await get('upstream-causes?from=2026-09-20T07:00:00Z&to=2026-11-20T07:00:00Z')).rows).toEqual(rows);
    const links = await world.db.query(`SELECT count(*)::int AS n FROM root_cause_links`);
    expect(links.rows[0].n).toBe(1);
  });

  it('pareto, aging, critical cases, business-unit variance and scorecards', async () => {
    const oct = 'from=2026-10-10T00:00:00Z&to=2026-10-11T00:00:00Z';
    const p = (await get(`pareto?${oct}&groupBy=connector`)).rows;
    expect(p).toEqual([
      { connector: 'wms-a', exceptions: 3, amountAtRisk: 140, share: 0.75, cumulativeShare: 0.75 },
      { connector: 'wms-b', exceptions: 1, amountAtRisk: 7, share: 0.25, cumulativeShare: 1 },
    ]);
    // The same shortfalls with October read from the exception month rollup.
    expect((await get('pareto?from=2026-09-20T07:00:00Z&to=2026-11-20T07:00:00Z&groupBy=connector&category=WAREHOUSE')).rows).toEqual([
      { connector: 'wms-a', exceptions: 2, amountAtRisk: 140, share: 0.6667, cumulativeShare: 0.6667 },
      { connector: 'wms-b', exceptions: 1, amountAtRisk: 7, share: 0.3333, cumulativeShare: 1 },
    ]);
    const bu = await get(`business-units?${oct}`);
    expect(bu.summary.averageExceptions).toBe(2);
    expect(bu.rows.map((r: any) => [r.businessUnit, r.exceptions, r.varianceVsAverage])).toEqual([['west', 3, 0.5], ['south', 1, -0.5]]);

    const aging = (await get('aging?team=wh')).rows;
    expect(aging.map((r: any) => [r.age, r.cases])).toEqual([['<4h', 1], ['1-3d', 1]]);
    const crit = (await get('critical-cases?team=wh')).rows;
    expect(crit).toHaveLength(1);
    expect(crit[0]).toMatchObject({ code: 'WAREHOUSE.PICK_SHORTFALL', amountAtRisk: 50, slaBreached: false });

    const bySupplier = (await get('pareto?from=2026-10-01T00:00:00Z&to=2026-10-05T00:00:00Z&supplier=S-ACME&groupBy=supplier')).rows;
    expect(bySupplier).toEqual([{ supplier: 'S-ACME', exceptions: 1, amountAtRisk: 0, share: 1, cumulativeShare: 1 }]);
    const sc = (await get('scorecards?from=2026-10-01T00:00:00Z&to=2026-10-05T00:00:00Z')).rows;
    expect(sc).toEqual([{
      partner: 'S-ACME', documents: 6, onTime855: 0.5, onTime856: null, onTime810: null, acks: 2, rejectedAckRate: 0.5, exceptions: 1, exceptionsPer100Documents: 16.67,
    }]);
  });

  it('CSV: by ?format=csv or Accept, formula cells neutralized', async () => {
    const res = await fetch(`${hub.url}/v1/reports/pareto?from=2026-10-11T00:00:00Z&to=2026-10-12T00:00:00Z&groupBy=site,businessUnit`, {
      headers: { authorization: `Bearer ${viewerKey}`, accept: 'text/csv' },
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(await res.text()).toBe(`site,businessUnit,exceptions,amountAtRisk,share,cumulativeShare\r\n"'=HYPERLINK(""x"")",'+east,1,0,1,1\r\n`);
    const exp = await api(hub.url, 'GET', '/v1/reports/export/exceptions?from=2026-10-10T00:00:00Z&to=2026-10-12T00:00:00Z&format=csv', { key: viewerKey });
    const lines = String(exp.body).trim().split('\r\n');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(/^id,detectedAt,code/);
  });

  it('refuses bad filters precisely', async () => {
    const tz = await api(hub.url, 'GET', '/v1/reports/volume?tz=Mars/Olympus', { key: viewerKey });
    expect(tz.status).toBe(400);
    expect(tz.body.message).toMatch(/tz: not an IANA time zone/);
    const hourly = await api(hub.url, 'GET', '/v1/reports/volume?bucket=hour&from=2026-01-01T00:00:00Z&to=2026-12-01T00:00:00Z', { key: viewerKey });
    expect(hourly.status).toBe(400);
    expect(hourly.body.message).toMatch(/ranges up to 92 days/);
    const sup = await api(hub.url, 'GET', '/v1/reports/sla?supplier=S-ACME', { key: viewerKey });
    expect(sup).toMatchObject({ status: 400, body: { message: 'report sla cannot filter by supplier; it supports category, code, businessUnit, site, team' } });
    expect((await api(hub.url, 'GET', '/v1/reports/nope', { key: viewerKey })).status).toBe(404);
    expect((await api(hub.url, 'GET', '/v1/reports/volume', { key: null })).status).toBe(401);
    expect((await api(hub.url, 'GET', '/v1/reports/volume?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', { key: viewerKey })).status).toBe(400);
  });

  it('counts a shortfall that comes through the pipeline, in the same transaction', async () => {
    const before = (await get('headline?site=RNO1&category=WAREHOUSE')).summary.exceptions;
    expect((await postWebhook(hub.url, world, pickShortfall(`SO-${randomUUID()}`))).status).toBe(202);
    await waitFor(async () => (await get('headline?site=RNO1&category=WAREHOUSE')).summary.exceptions === before + 1, 20000, 'the shortfall in the rollup');
    const raw = await world.db.query(`SELECT count(*)::int AS n FROM exceptions WHERE site = 'RNO1' AND category = 'WAREHOUSE' AND NOT test_mode AND detected_at > now() - interval '30 days'`);
    expect(raw.rows[0].n).toBe(before + 1);
    expect(ADMIN_KEY).toBeTruthy();
  });
});

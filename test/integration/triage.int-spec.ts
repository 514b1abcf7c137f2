import { readFileSync } from 'node:fs';
import { api, newWorld, startInProcess, type TestWorld } from '../support/hub-harness.js';
import type { RunningHub } from '../../src/hub.js';
import { TextClassifier } from '../../src/triage/text-classifier.js';

describe('governed triage: free text → suggestion → routed or reviewed; case summary and risk', () => {
  let world: TestWorld;
  let hub: RunningHub & { url: string };
  const model = TextClassifier.restore(JSON.parse(readFileSync('dist/triage-model.json', 'utf8')));
  const CONFIDENT = 'FW: We were invoiced twice for SO-551234, please credit the duplicate invoice. Thanks.';
  const VAGUE = 'Same problem as last time with the thing from the other day, can somebody call Maria back about it?';

  beforeAll(async () => {
    world = newWorld({ HUB_TRIAGE_MIN_CONFIDENCE: '0.7' });
    hub = await startInProcess(world);
  });
  afterAll(async () => {
    await hub?.close();
    await world?.drop();
  });

  it('routes a confident suggestion, recording it as a suggestion with the model version', async () => {
    const expected = model.suggest(CONFIDENT);
    expect(expected).toMatchObject({ code: 'FINANCE.INVOICE_DISCREPANCY' });
    expect(expected.confidence).toBeGreaterThanOrEqual(0.7);
    const r = await api(hub.url, 'POST', '/v1/intake/text', { body: { text: CONFIDENT, channel: 'email', references: { invoice: 'INV-700001', order: 'SO-551234' } } });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ status: 'routed', suggestion: { code: 'FINANCE.INVOICE_DISCREPANCY', confidence: expected.confidence, modelVersion: model.version } });
    const { rows } = await world.db.query(`SELECT code, case_id, suggestion, mapping_id, mapping_version FROM exceptions WHERE id = $1`, [r.body.exceptionId]);
    expect(rows[0]).toMatchObject({ code: 'FINANCE.INVOICE_DISCREPANCY', mapping_id: 'triage', mapping_version: model.version, suggestion: { code: 'FINANCE.INVOICE_DISCREPANCY', modelVersion: model.version, reviewedBy: null } });
    const c = (await api(hub.url, 'GET', `/v1/cases/${rows[0].case_id}`)).body;
    expect(c).toMatchObject({ ownerTeam: 'finance-ap', correlationKey: 'order:SO-551234' });

    const summary = (await api(hub.url, 'GET', `/v1/cases/${c.id}/summary`)).body;
    expect(summary.headline).toMatch(/^Case \d+ \(case\) is open: Invoice discrepancy: FW: We were invoiced twice .*Owner team finance-ap, severity \w+, 1 exception\.$/);
    expect(summary.timeline.map((t: any) => t.text)).toEqual([
      expect.stringMatching(/^text-intake reported FINANCE\.INVOICE_DISCREPANCY \(\w+\): Invoice discrepancy: FW: We were invoiced twice/),
      expect.stringMatching(/^The hub opened the case for finance-ap/),
      'Routed to finance-ap: rule invoice-and-tax matched (category=FINANCE).',
    ]);
    // The standard SLA's clocks run; no comparable case has SLA history yet (case-summary.int-spec.ts scores with history).
    expect(summary.risk).toMatchObject({
      score: null,
      clocks: [
        { kind: 'acknowledge', sla: 'standard', probability: null, basis: { similar: 0 } },
        { kind: 'resolve', sla: 'standard', probability: null, basis: { similar: 0 } },
      ],
    });
    expect(summary.risk.explanation).toMatch(/^No score: Not enough history for the acknowledge clock \(standard, [\d.]+ % of its target used\): 0 acknowledge clocks of FINANCE\.INVOICE_DISCREPANCY cases \(\w+, finance-ap(, RNO1)?\) stopped in the last 90 days/);
  });

  it('sends an unsure suggestion to the review queue; a person corrects it and it is routed, or rejects it', async () => {
    expect(model.suggest(VAGUE).confidence).toBeLessThan(0.7);
    const r = await api(hub.url, 'POST', '/v1/intake/text', { body: { text: VAGUE, channel: 'phone', references: { shipment: 'SH-77', order: 'SO-TRI-2' } } });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ status: 'pending', exceptionId: null });
    expect(r.body.review).toMatch(/^confidence 0\.\d+ is below HUB_TRIAGE_MIN_CONFIDENCE 0\.7$/);
    const { rows: none } = await world.db.query(`SELECT count(*)::int AS n FROM exceptions WHERE message_id = $1`, [r.body.id]);
    expect(none[0].n).toBe(0);

    const queue = (await api(hub.url, 'GET', '/v1/triage/review')).body.items;
    expect(queue.map((i: any) => i.id)).toContain(r.body.id);

    const decided = await api(hub.url, 'POST', `/v1/triage/review/${r.body.id}/decide`, { body: { action: 'correct', code: 'LOGISTICS.SHIPMENT_DELAY', severity: 'critical' } });
    expect(decided.status).toBe(200);
    expect(decided.body).toMatchObject({ status: 'decided', decidedBy: expect.any(String), decision: { action: 'correct', code: 'LOGISTICS.SHIPMENT_DELAY', severity: 'critical', agreesWithSuggestion: false } });
    const { rows } = await world.db.query(`SELECT code, severity, suggestion FROM exceptions WHERE id = $1`, [decided.body.exceptionId]);
    expect(rows[0]).toMatchObject({ code: 'LOGISTICS.SHIPMENT_DELAY', severity: 'critical', suggestion: { code: r.body.suggestion.code, reviewedBy: decided.body.decidedBy } });
    expect((await api(hub.url, 'GET', '/v1/triage/review')).body.items.map((i: any) => i.id)).not.toContain(r.body.id);
    expect((await api(hub.url, 'POST', `/v1/triage/review/${r.body.id}/decide`, { body: { action: 'accept' } })).status).toBe(409);

    const other = await api(hub.url, 'POST', '/v1/intake/text', { body: { text: VAGUE + ' Again.', channel: 'phone' } });
    const rejected = await api(hub.url, 'POST', `/v1/triage/review/${other.body.id}/decide`, { body: { action: 'reject', note: 'not an exception, a callback request' } });
    expect(rejected.body).toMatchObject({ status: 'rejected', exceptionId: null });
    const trail = (await api(hub.url, 'GET', `/v1/audit?entityType=triage-item&entityId=${other.body.id}`)).body.items.map((a: any) => a.action);
    expect(trail).toEqual(['triage.suggested', 'triage.rejected']);
  });

  it('refuses bad input precisely', async () => {
    const short = await api(hub.url, 'POST', '/v1/intake/text', { body: { text: 'late', channel: 'email' } });
    expect(short.status).toBe(400);
    expect(short.body.message).toBe('text: Too small: expected string to have >=10 characters');
    const badCode = await api(hub.url, 'POST', '/v1/triage/review/01a21cd0-0000-7000-8000-000000000001/decide', { body: { action: 'correct', code: 'NOPE', severity: 'critical' } });
    expect(badCode.status).toBe(400);
    expect((await api(hub.url, 'POST', '/v1/triage/review/01a21cd0-0000-7000-8000-000000000001/decide', { body: { action: 'accept' } })).status).toBe(404);
  });
});

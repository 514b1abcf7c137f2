import { ADMIN_KEY, api, newWorld, pickShortfall, postWebhook, startInProcess, waitFor, type TestWorld } from '../support/hub-harness.js';
import type { RunningHub } from '../../src/hub.js';

describe('WMS webhook → canonical exception → case (in-process hub, real PostgreSQL and Redis)', () => {
  let world: TestWorld;
  let hub: RunningHub & { url: string };

  beforeAll(async () => {
    world = newWorld({ HUB_MAX_BODY_BYTES: '8192' });
    hub = await startInProcess(world);
  });
  afterAll(async () => {
    await hub?.close();
    await world?.drop();
  });

  const caseFor = (key: string) =>
    waitFor(async () => {
      const r = await api(hub.url, 'GET', `/v1/cases?correlationKey=${encodeURIComponent(key)}`);
      return r.body.items?.[0];
    }, 10000, `case ${key}`);

  const messageIn = (id: string, statuses: string[]) =>
    waitFor(async () => {
      const r = await api(hub.url, 'GET', `/v1/messages/${id}`);
      return statuses.includes(r.body.status) ? r.body : undefined;
    }, 10000, `message ${id} in ${statuses.join('/')}`);

  it('turns a signed pick shortfall into a routed, audited case within a second', async () => {
    const started = Date.now();
    const res = await postWebhook(hub.url, world, pickShortfall('SO-E2E-1'));
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('accepted');
    const c = await caseFor('order:SO-E2E-1');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(c).toMatchObject({ status: 'open', code: 'WAREHOUSE.PICK_SHORTFALL', severity: 'critical', ownerTeam: 'warehouse-ops', exceptionCount: 1, amountAtRisk: '75.00', currency: 'USD' });
    expect(c.routing).toMatchObject({ policy: { id: 'default', version: '2.3.0' }, ruleId: 'priority-fulfilment-risk' });

    const msg = await messageIn(res.body.messageId, ['routed']);
    expect(msg.exceptions).toHaveLength(1);
    expect(msg.exceptions[0]).toMatchObject({ code: 'WAREHOUSE.PICK_SHORTFALL', caseId: c.id, mappingId: 'wms-webhook', mappingVersion: '1.2.0' });

    const detail = (await api(hub.url, 'GET', `/v1/cases/${c.id}`)).body;
    expect(detail.exceptions[0]).toMatchObject({
      code: 'WAREHOUSE.PICK_SHORTFALL',
      source: { system: 'test-wms', connectorId: 'test-wms', connectorType: 'wms-webhook', messageId: res.body.messageId, documentType: 'pick.shortfall', testMode: false, senderEventId: res.id },
      references: { order: 'SO-E2E-1', customer: 'C-1007', sku: 'HX-2210', line: '1' },
      quantities: { expected: 10, actual: 4, unit: 'EA' },
      mapping: { id: 'wms-webhook', version: '1.2.0' },
    });
    expect(detail.timeline.map((a: any) => a.action)).toEqual(['case.opened', 'case.routed']);

    // Every step of the path is in the audit trail.
    const trail = async (entityType: string, entityId: string) =>
      (await api(hub.url, 'GET', `/v1/audit?entityType=${entityType}&entityId=${entityId}`)).body.items.map((a: any) => a.action);
    expect(await trail('message', res.body.messageId)).toEqual(['message.accepted', 'message.processed']);
    expect(await trail('exception', msg.exceptions[0].id)).toEqual(['exception.created']);
  });

  it('groups a second exception for the same order into the open case', async () => {
    await postWebhook(hub.url, world, pickShortfall('SO-E2E-2', 'SKU-A'));
    const first = await caseFor('order:SO-E2E-2');
    await postWebhook(hub.url, world, pickShortfall('SO-E2E-2', 'SKU-B'));
    const joined = await waitFor(async () => {
      const c = (await api(hub.url, 'GET', `/v1/cases/${first.id}`)).body;
      return c.exceptionCount === 2 ? c : undefined;
    });
    expect(joined.exceptions.map((e: any) => e.references.sku).sort()).toEqual(['SKU-A', 'SKU-B']);
    expect(joined.amountAtRisk).toBe('150.00');
    expect(joined.timeline.map((a: any) => a.action)).toEqual(['case.opened', 'case.routed', 'case.updated']);
    const all = await api(hub.url, 'GET', `/v1/cases?correlationKey=order:SO-E2E-2`);
    expect(all.body.items).toHaveLength(1);
  });

  it('answers a resent event (same webhook-id, or same body) with the original message id and processes it once', async () => {
    const body = pickShortfall('SO-DUP-1');
    const a = await postWebhook(hub.url, world, body);
    expect(a.status).toBe(202);
    const sameId = await postWebhook(hub.url, world, pickShortfall('SO-DUP-1', 'OTHER'), { id: a.id });
    expect(sameId.status).toBe(200);
    expect(sameId.body).toMatchObject({ messageId: a.body.messageId, status: 'duplicate' });
    const sameBody = await postWebhook(hub.url, world, body);
    expect(sameBody.status).toBe(200);
    expect(sameBody.body.messageId).toBe(a.body.messageId);
    // Concurrent duplicates land in one group-commit batch: still one message.
    const burst = await Promise.all([1, 2, 3].map(() => postWebhook(hub.url, world, pickShortfall('SO-DUP-2'), { id: 'evt-dup-burst' })));
    expect(new Set(burst.map((b) => b.body.messageId)).size).toBe(1);
    expect(burst.filter((b) => b.status === 202)).toHaveLength(1);

    const c = await caseFor('order:SO-DUP-1');
    await messageIn(a.body.messageId, ['routed']);
    const { rows } = await world.db.query(`SELECT count(*)::int AS n FROM exceptions WHERE order_ref = 'SO-DUP-1'`);
    expect(rows[0].n).toBe(1);
    expect(c.exceptionCount).toBe(1);
  });

  it('refuses bad signatures, stale timestamps, missing headers and unknown connectors without storing anything', async () => {
    const { rows: before } = await world.db.query(`SELECT count(*)::int AS n FROM inbound_messages`);
    const wrongSecret = await postWebhook(hub.url, world, pickShortfall('SO-SIG'), { secret: 'whsec_' + Buffer.from('another secret 123').toString('base64') });
    expect(wrongSecret.status).toBe(401);
    expect(wrongSecret.body.message).toMatch(/signature/);
    const tampered = await postWebhook(hub.url, world, pickShortfall('SO-SIG'), { signature: 'v1,AAAA' });
    expect(tampered.status).toBe(401);
    const stale = await postWebhook(hub.url, world, pickShortfall('SO-SIG'), { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    expect(stale.status).toBe(401);
    expect(stale.body.message).toMatch(/tolerance 300 s/);
    const noHeaders = await fetch(`${hub.url}/v1/webhooks/test-wms`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(noHeaders.status).toBe(401);
    expect((await noHeaders.json()).message).toMatch(/missing header webhook-id, webhook-timestamp, webhook-signature/);
    const longId = await postWebhook(hub.url, world, pickShortfall('SO-SIG'), { id: 'e'.repeat(300) });
    expect(longId).toMatchObject({ status: 400, body: { message: 'webhook-id is longer than 256 characters' } });
    const unknown = await postWebhook(hub.url, world, pickShortfall('SO-SIG'), {}, 'no-such-connector');
    expect(unknown.status).toBe(404);
    const { rows: after } = await world.db.query(`SELECT count(*)::int AS n FROM inbound_messages`);
    expect(after[0].n).toBe(before[0].n);
  });

  it('answers 413 for a body over the limit', async () => {
    const big = JSON.stringify({ type: 'pick.shortfall', pad: 'x'.repeat(9000) });
    const res = await postWebhook(hub.url, world, big);
    expect(res.status).toBe(413);
    expect(res.body.message).toBe('body is over the limit of 8192 bytes (HUB_MAX_BODY_BYTES)');
    // The hub is still alive and serving.
    expect((await fetch(`${hub.url}/health/live`)).status).toBe(200);
  });

  it('stores malformed JSON, answers 400 with the position and raises INTEGRATION.MALFORMED_PAYLOAD', async () => {
    const body = '{"type": "pick.shortfall",\n "order": {"number": "SO-BAD" ,, }}';
    const res = await postWebhook(hub.url, world, body);
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/malformed JSON: .*line 2, column/);
    expect(res.body.position).toMatchObject({ line: 2 });
    const msg = await messageIn(res.body.messageId, ['failed']);
    expect(msg.exceptions[0].code).toBe('INTEGRATION.MALFORMED_PAYLOAD');
    expect(msg.errors[0]).toMatchObject({ stage: 'parse' });
    const raw = await api(hub.url, 'GET', `/v1/messages/${res.body.messageId}/raw`);
    expect(Buffer.from(raw.body.base64, 'base64').toString()).toBe(body);
    const c = await caseFor(`malformed:test-wms`);
    expect(c.ownerTeam).toBe('integration-support');
  });

  it('turns mapping output that fails the canonical schema into INTEGRATION.MAPPING_FAILED with the errors', async () => {
    const noOrder = JSON.stringify({ type: 'pick.shortfall', warehouse: { site: 'RNO1' }, line: { number: 1, sku: 'X1', orderedQty: 5, pickedQty: 0, uom: 'EA' } });
    const res = await postWebhook(hub.url, world, noOrder);
    expect(res.status).toBe(202);
    const msg = await messageIn(res.body.messageId, ['failed']);
    expect(msg.exceptions).toHaveLength(1);
    expect(msg.exceptions[0].code).toBe('INTEGRATION.MAPPING_FAILED');
    const c = await caseFor('mapping-failed:test-wms:wms-webhook@1.2.0');
    const detail = (await api(hub.url, 'GET', `/v1/cases/${c.id}`)).body;
    const exc = detail.exceptions.find((e: any) => e.source.messageId === res.body.messageId);
    expect(exc.attributes.problems).toEqual(expect.arrayContaining([{ path: 'references.order', message: 'is required for WAREHOUSE.PICK_SHORTFALL' }]));
    expect(exc.attributes.rawMessageId ?? exc.source.messageId).toBe(res.body.messageId);
    expect(msg.errors[0].message).toMatch(/references.order: is required/);

    const unknownType = await postWebhook(hub.url, world, JSON.stringify({ type: 'dock.door.opened' }));
    const m2 = await messageIn(unknownType.body.messageId, ['failed']);
    expect(m2.errors[0].message).toMatch(/no rule in wms-webhook@1.2.0 for document type "dock.door.opened"/);
  });

  it('records events that are not exceptions as mapped, with no case', async () => {
    const res = await postWebhook(hub.url, world, JSON.stringify({ type: 'pick.completed', order: { number: 'SO-OK' } }));
    const msg = await messageIn(res.body.messageId, ['mapped']);
    expect(msg.exceptions).toEqual([]);
    expect(msg.documentTypes).toEqual(['pick.completed']);
  });

  it('acknowledges, assigns, comments and resolves a case (root cause required), each audited with the actor', async () => {
    await postWebhook(hub.url, world, pickShortfall('SO-ACT-1'));
    const c = await caseFor('order:SO-ACT-1');
    const key = (await api(hub.url, 'POST', '/v1/api-keys', { body: { name: 'dana', role: 'operator' } })).body.key;
    expect((await api(hub.url, 'POST', `/v1/cases/${c.id}/acknowledge`, { key })).body.status).toBe('acknowledged');
    expect((await api(hub.url, 'POST', `/v1/cases/${c.id}/acknowledge`, { key })).status).toBe(409);
    expect((await api(hub.url, 'POST', `/v1/cases/${c.id}/assign`, { key, body: { assignee: 'dana', team: 'customer-service' } })).body).toMatchObject({ assignee: 'dana', ownerTeam: 'customer-service' });
    expect((await api(hub.url, 'POST', `/v1/cases/${c.id}/assign`, { key, body: { team: 'no-such-team' } })).status).toBe(400);
    expect((await api(hub.url, 'POST', `/v1/cases/${c.id}/comment`, { key, body: { text: 'Checking RNO2 for stock' } })).status).toBe(200);
    const noCause = await api(hub.url, 'POST', `/v1/cases/${c.id}/resolve`, { key, body: { note: 'fixed' } });
    expect(noCause.status).toBe(400);
    expect(noCause.body.message).toMatch(/rootCause/);
    const badCause = await api(hub.url, 'POST', `/v1/cases/${c.id}/resolve`, { key, body: { rootCause: 'GREMLINS' } });
    expect(badCause.status).toBe(400);
    const done = await api(hub.url, 'POST', `/v1/cases/${c.id}/resolve`, { key, body: { rootCause: 'INVENTORY_SYNC_DELAY', note: 'stock moved from RNO2' } });
    expect(done.body).toMatchObject({ status: 'resolved', rootCause: 'INVENTORY_SYNC_DELAY' });

    const detail = (await api(hub.url, 'GET', `/v1/cases/${c.id}`)).body;
    const human = detail.timeline.filter((a: any) => a.actorType === 'api-key');
    expect(human.map((a: any) => a.action)).toEqual(['case.acknowledged', 'case.assigned', 'case.commented', 'case.resolved']);
    expect(human.every((a: any) => a.actorId.startsWith('dana#'))).toBe(true);
    expect(human[1]).toMatchObject({ before: { ownerTeam: 'warehouse-ops', assignee: null }, after: { ownerTeam: 'customer-service', assignee: 'dana' } });

    // A new shortfall for the same order after resolution opens a new case.
    await postWebhook(hub.url, world, pickShortfall('SO-ACT-1', 'SKU-NEW'));
    await waitFor(async () => (await api(hub.url, 'GET', `/v1/cases?correlationKey=order:SO-ACT-1&status=open`)).body.items[0]);
  });

  it('keeps the audit trail append-only in the database', async () => {
    await expect(world.db.query(`UPDATE audit_events SET action = 'tampered'`)).rejects.toThrow(/append-only/);
    await expect(world.db.query(`DELETE FROM audit_events`)).rejects.toThrow(/append-only/);
  });

  it('publishes the canonical model as JSON Schema', async () => {
    const s = (await api(hub.url, 'GET', '/v1/schema/exception')).body;
    expect(s.properties.code.enum).toContain('WAREHOUSE.PICK_SHORTFALL');
    expect(s.required).toEqual(expect.arrayContaining(['code', 'category', 'severity', 'source', 'references', 'correlationKey', 'mapping']));
    const rule = s.allOf.find((r: any) => r.if.properties.code.const === 'WAREHOUSE.PICK_SHORTFALL');
    expect(rule.then.properties.references.required).toEqual(['order', 'sku']);
    expect((await api(hub.url, 'GET', '/v1/schema/root-causes')).body.rootCauses.INVENTORY_SYNC_DELAY).toBeDefined();
  });

  it('serves health, readiness and Prometheus metrics', async () => {
    expect((await api(hub.url, 'GET', '/health/ready', { key: null })).body).toMatchObject({ status: 'ok', postgres: { status: 'ok' }, redis: { status: 'ok' } });
    const metrics = await (await fetch(`${hub.url}/metrics`)).text();
    expect(metrics).toMatch(/hub_messages_received_total\{connector="test-wms",outcome="accepted"\} \d+/);
    expect(metrics).toMatch(/hub_exceptions_created_total\{code="WAREHOUSE.PICK_SHORTFALL",severity="critical"\} \d+/);
    expect(metrics).toMatch(/hub_stage_duration_seconds_count\{stage="map"\} \d+/);
    expect(metrics).toMatch(/hub_queue_depth\{queue="pipeline",state="completed"\} \d+/);
    expect(metrics).toMatch(/hub_messages_rejected_total\{connector="test-wms",status="401"\} \d+/);
    expect(metrics).not.toMatch(new RegExp(ADMIN_KEY));
  });
});

describe('event feed (transactional outbox)', () => {
  let world: TestWorld;
  let hub: RunningHub & { url: string };
  beforeAll(async () => {
    world = newWorld();
    hub = await startInProcess(world);
  });
  afterAll(async () => {
    await hub?.close();
    await world?.drop();
  });

  it('publishes case and exception events in commit order, resumable from a cursor, filtered like subscriptions', async () => {
    const first = await postWebhook(hub.url, world, pickShortfall('SO-FEED-1'));
    await waitFor(async () => (await api(hub.url, 'GET', `/v1/messages/${first.body.messageId}`)).body.status === 'routed');
    const page1 = await waitFor(async () => {
      const r = (await api(hub.url, 'GET', '/v1/events')).body;
      return r.items.length >= 2 ? r : undefined;
    });
    expect(page1.items.map((e: any) => e.type).sort()).toEqual(['case.opened', 'exception.created']);
    const opened = page1.items.find((e: any) => e.type === 'case.opened');
    expect(opened.payload.case).toMatchObject({ ownerTeam: 'warehouse-ops', severity: 'critical' });

    const second = await postWebhook(hub.url, world, pickShortfall('SO-FEED-1', 'SKU-2'));
    await waitFor(async () => (await api(hub.url, 'GET', `/v1/messages/${second.body.messageId}`)).body.status === 'routed');
    const c = (await api(hub.url, 'GET', '/v1/cases?correlationKey=order:SO-FEED-1')).body.items[0];
    await api(hub.url, 'POST', `/v1/cases/${c.id}/resolve`, { body: { rootCause: 'INVENTORY_SYNC_DELAY' } });
    const page2 = await waitFor(async () => {
      const r = (await api(hub.url, 'GET', `/v1/events?after=${page1.nextCursor}`)).body;
      return r.items.some((e: any) => e.type === 'case.resolved') ? r : undefined;
    });
    expect(page2.items.map((e: any) => e.type)).toEqual(['exception.created', 'case.updated', 'case.resolved']);
    const filtered = (await api(hub.url, 'GET', '/v1/events?types=case.resolved&team=warehouse-ops')).body.items;
    expect(filtered).toHaveLength(1);
    expect((await api(hub.url, 'GET', '/v1/events?team=finance-ap')).body.items).toEqual([]);
    expect((await api(hub.url, 'GET', '/v1/events?after=12')).status).toBe(400);
  });

  it('publishes nothing for a change that rolled back', async () => {
    const { rows: before } = await world.db.query(`SELECT count(*)::int AS n FROM outbox_events`);
    const c = (await api(hub.url, 'GET', '/v1/cases?correlationKey=order:SO-FEED-1&status=resolved')).body.items[0];
    // Resolving twice fails inside its transaction: no event may escape.
    expect((await api(hub.url, 'POST', `/v1/cases/${c.id}/resolve`, { body: { rootCause: 'OTHER' } })).status).toBe(409);
    const { rows: after } = await world.db.query(`SELECT count(*)::int AS n FROM outbox_events`);
    expect(after[0].n).toBe(before[0].n);
  });
});

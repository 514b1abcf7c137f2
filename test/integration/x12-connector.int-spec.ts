import { walk } from '../../connectors/x12/envelope.js';
import type { RunningHub } from '../../src/hub.js';
import { ADMIN_KEY, api, newWorld, startInProcess, waitFor, type TestWorld } from '../support/hub-harness.js';
import { fixture, interchange } from '../support/x12-fixtures.js';

const RENO = { id: 'reno-3pl', name: 'Reno 3PL', isa: { qualifier: 'ZZ', id: 'RENOWMS' }, ack: '997' };
const EDI = {
  id: 'edi',
  type: 'x12',
  name: 'EDI gateway',
  config: { system: 'edi-gateway', mapping: 'x12-documents', us: { qualifier: 'ZZ', id: 'ACMEHOME' }, partners: [RENO] },
};

async function post(hub: RunningHub & { url: string }, body: Buffer | string, query = 'wait=10', connector = 'edi') {
  const res = await fetch(`${hub.url}/v1/connectors/${connector}/messages?${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/edi-x12' },
    body,
  });
  return { status: res.status, body: (await res.json()) as any };
}

describe('X12 connector through the hub', () => {
  let world: TestWorld;
  let hub: RunningHub & { url: string };
  const exceptionsOf = async (messageId: string) => (await api(hub.url, 'GET', `/v1/messages/${messageId}`)).body.exceptions as any[];

  beforeAll(async () => {
    world = newWorld();
    hub = await startInProcess(world);
    expect((await api(hub.url, 'POST', '/v1/connectors', { body: EDI })).status).toBe(201);
  });
  afterAll(async () => {
    await hub?.close();
    await world?.drop();
  });

  it('reads a 947 with damage adjustments: documents, DAMAGED_GOODS exceptions (test mode) and a valid 997', async () => {
    const res = await post(hub, fixture('generated/947-damaged.edi'));
    expect(res).toMatchObject({ status: 202, body: { status: 'routed' } });
    expect(res.body.acks).toHaveLength(1);
    const ack = res.body.acks[0];
    expect(ack).toMatchObject({ kind: '997', partner: 'reno-3pl' });
    const [parsed] = walk(ack.content);
    expect(parsed.findings).toEqual([]);
    expect(parsed).toMatchObject({ senderId: 'ACMEHOME', receiverId: 'RENOWMS', usage: 'T' });
    expect(ack.content).toMatch(/AK1\*AW\*417/);
    expect(ack.content).toMatch(/AK9\*A\*1\*1\*1/);

    const excs = await exceptionsOf(res.body.messageId);
    expect(excs.map((e) => e.code)).toEqual(['WAREHOUSE.DAMAGED_GOODS', 'WAREHOUSE.DAMAGED_GOODS']);
    const cases = await api(hub.url, 'GET', '/v1/cases?correlationKey=test:adjustment:reno-3pl:ADJ-77120');
    expect(cases.body.items[0]).toMatchObject({ testMode: true, exceptionCount: 2, ownerTeam: 'warehouse-ops' });
    const docs = await api(hub.url, 'GET', '/v1/documents?type=inventory_adjustment');
    expect(docs.body.items).toHaveLength(1);
    expect(docs.body.items[0]).toMatchObject({ partner: 'reno-3pl', testMode: true, messageId: res.body.messageId });
  });

  it('matches a 945 against the 940 we sent (outbound copy) and raises PICK_SHORTFALL per short line', async () => {
    const copy = await post(hub, fixture('generated/940-order.edi'), 'wait=10&direction=outbound');
    expect(copy.body).toMatchObject({ status: 'parsed', acks: [] });
    const res = await post(hub, fixture('generated/945-short.edi'));
    expect(res.body.status).toBe('routed');
    const excs = (await api(hub.url, 'GET', `/v1/cases?correlationKey=order:SO-240117`)).body.items[0];
    expect(excs).toMatchObject({ code: 'WAREHOUSE.PICK_SHORTFALL', exceptionCount: 2 });
    const detail = (await api(hub.url, 'GET', `/v1/cases/${excs.id}`)).body;
    expect(detail.exceptions.map((e: any) => [e.references.sku, e.quantities.expected, e.quantities.actual])).toEqual([
      ['TB-2200-OAK', 4, 1],
      ['LMP-90-WHT', 20, 16],
    ]);
    expect(detail.exceptions[0].attributes.checkedAgainst).toBe('940 0001');
    const docs = (await api(hub.url, 'GET', '/v1/documents?depositorOrder=SO-240117')).body.items.map((d: any) => d.type).sort();
    expect(docs).toEqual(['warehouse_shipping_advice', 'warehouse_shipping_order']);
  });

  it('rejects a resent interchange (same ISA13 from the partner): EDI_DUPLICATE, TA1 025, no second set of exceptions', async () => {
    const again = Buffer.concat([fixture('generated/945-short.edi'), Buffer.from('\n')]);
    const res = await post(hub, again);
    expect(res.status).toBe(202);
    const excs = await exceptionsOf(res.body.messageId);
    expect(excs.map((e) => e.code)).toEqual(['INTEGRATION.EDI_DUPLICATE']);
    expect(res.body.acks.map((a: any) => a.kind)).toEqual(['TA1']);
    expect(res.body.acks[0].content).toMatch(/TA1\*000000533\*\d{6}\*\d{4}\*R\*025/);
    const { rows } = await world.db.query(`SELECT count(*)::int AS n FROM exceptions WHERE code = 'WAREHOUSE.PICK_SHORTFALL'`);
    expect(rows[0].n).toBe(2);
    // The exact same bytes again are a duplicate message: answered with the original id, nothing re-run.
    const same = await post(hub, again);
    expect(same).toMatchObject({ status: 200, body: { messageId: res.body.messageId, status: 'duplicate' } });
  });

  it('fails an interchange from an unknown partner with a clear error, then succeeds on replay once the profile exists', async () => {
    const file = interchange({
      from: 'ACMESUPPLY', to: 'ACMEHOME', isa13: 77, functionalId: 'PR',
      sets: [{ id: '855', control: '0001', body: ['BAK*00*AC*PO-4711*20261127', 'PO1*1*10*EA*12.5**VP*WID-1', 'ACK*IR*0*EA', 'PO1*2*5*EA*3**VP*WID-2', 'ACK*IA*5*EA', 'CTT*2'] }],
    });
    const res = await post(hub, file);
    expect(res.body.status).toBe('failed');
    const msg = (await api(hub.url, 'GET', `/v1/messages/${res.body.messageId}`)).body;
    expect(msg.exceptions.map((e: any) => e.code)).toEqual(['INTEGRATION.UNKNOWN_PARTNER']);
    expect(msg.errors[0].message).toMatch(/no trading partner profile for sender ZZ\/ACMESUPPLY \(ISA05\/ISA06\)/);

    const supplier = { id: 'acme-supply', name: 'Acme Supply', isa: { qualifier: 'ZZ', id: 'ACMESUPPLY' }, ack: '997' };
    expect((await api(hub.url, 'POST', '/v1/connectors', { body: { ...EDI, config: { ...EDI.config, partners: [RENO, supplier] } } })).status).toBe(201);
    await new Promise((r) => setTimeout(r, 5100)); // connector instances are cached for 5 s per process
    expect((await api(hub.url, 'POST', `/v1/messages/${res.body.messageId}/replay`)).status).toBe(201);
    const done = await waitFor(async () => {
      const m = (await api(hub.url, 'GET', `/v1/messages/${res.body.messageId}`)).body;
      return m.status === 'routed' ? m : undefined;
    });
    expect(done.exceptions.map((e: any) => e.code)).toEqual(['INTEGRATION.UNKNOWN_PARTNER', 'PROCUREMENT.PO_ACK_REJECTED']);
    const acks = (await api(hub.url, 'GET', `/v1/messages/${res.body.messageId}/acks`)).body.items;
    expect(acks.map((a: any) => a.kind)).toEqual(['997']);
  });

  it('acknowledges partial acceptance (AK9 P): good sets processed, the bad set rejected and reported with its X12 codes', async () => {
    const body = ['W15*20261127*ADJ-1*DEP-1', 'W19*AU*-2*EA**VN*X-1', 'W19*AV*-1*EA**VN*X-2'];
    const file = interchange({
      from: 'RENOWMS', to: 'ACMEHOME', isa13: 900, functionalId: 'AW', ackRequested: true,
      sets: [
        { id: '947', control: '0001', body },
        { id: '947', control: '0002', body: ['W15*20261127*ADJ-2*DEP-2', 'W19*AU*-5*EA**VN*X-3'], seCount: 9 },
      ],
    });
    const res = await post(hub, file);
    expect(res.body.acks.map((a: any) => a.kind)).toEqual(['TA1', '997']);
    const ack997 = res.body.acks[1].content as string;
    expect(ack997).toMatch(/AK2\*947\*0001~\s*AK5\*A/);
    expect(ack997).toMatch(/AK2\*947\*0002~\s*AK5\*R\*4/);
    expect(ack997).toMatch(/AK9\*P\*2\*2\*1/);
    const excs = await exceptionsOf(res.body.messageId);
    expect(excs.map((e) => e.code).sort()).toEqual(['INTEGRATION.EDI_SYNTAX_ERROR', 'WAREHOUSE.DAMAGED_GOODS', 'WAREHOUSE.DAMAGED_GOODS']);
    const syntax = (await api(hub.url, 'GET', `/v1/cases?code=INTEGRATION.EDI_SYNTAX_ERROR`)).body.items[0];
    const detail = (await api(hub.url, 'GET', `/v1/cases/${syntax.id}`)).body;
    expect(detail.exceptions[0].attributes.errors[0]).toMatchObject({ level: 'set', code: '4' });
    const docs = (await api(hub.url, 'GET', '/v1/documents?type=inventory_adjustment')).body.items;
    expect(docs.filter((d: any) => d.messageId === res.body.messageId)).toHaveLength(1);
  });

  it('reconciles a partner 997 rejecting our 850 into EDI_REJECTED naming the PO', async () => {
    const po = interchange({ from: 'ACMEHOME', to: 'RENOWMS', isa13: 5001, gs06: 5001, functionalId: 'PO', sets: [{ id: '850', control: '0042', body: ['BEG*00*SA*PO-9001**20261127', 'PO1*1*10*EA*5**VP*P-1', 'CTT*1'] }] });
    expect((await post(hub, po, 'wait=10&direction=outbound')).body.status).toBe('parsed');
    const rejection = interchange({
      from: 'RENOWMS', to: 'ACMEHOME', isa13: 901, functionalId: 'FA',
      sets: [{ id: '997', control: '0001', body: ['AK1*PO*5001', 'AK2*850*0042', 'AK3*PO1*2**8', 'AK4*4**7*ZZ', 'AK5*R*5', 'AK9*R*1*1*0'] }],
    });
    const res = await post(hub, rejection);
    // An acknowledgment is never acknowledged.
    expect(res.body.acks).toEqual([]);
    const excs = await exceptionsOf(res.body.messageId);
    expect(excs.map((e) => e.code)).toEqual(['INTEGRATION.EDI_REJECTED']);
    const c = (await api(hub.url, 'GET', '/v1/cases?correlationKey=po:PO-9001')).body.items[0];
    expect(c).toMatchObject({ code: 'INTEGRATION.EDI_REJECTED', ownerTeam: 'integration-support' });
    expect(c.title).toMatch(/Reno 3PL rejected our purchase order PO PO-9001 \(group 5001, set 0042\): codes 5/);
  });

  it('does not act on what its acknowledgments reject: a bad interchange trailer, an unsupported set, a non-numeric GS06', async () => {
    const body = ['W15*20261127*ADJ-9*DEP-9', 'W19*AU*-2*EA**VN*Z-1'];
    const badTrailer = interchange({ from: 'RENOWMS', to: 'ACMEHOME', isa13: 950, functionalId: 'AW', sets: [{ id: '947', control: '0001', body }] }).replace('IEA*1*000000950', 'IEA*1*000000951');
    const r1 = await post(hub, badTrailer);
    expect(r1.body.acks.map((a: any) => a.kind)).toEqual(['TA1', '997']);
    expect(r1.body.acks[0].content).toMatch(/TA1\*000000950\*\d{6}\*\d{4}\*R\*001/);
    expect((await exceptionsOf(r1.body.messageId)).map((e) => e.code)).toEqual(['INTEGRATION.EDI_SYNTAX_ERROR']);
    expect((await api(hub.url, 'GET', `/v1/documents?type=inventory_adjustment`)).body.items.some((d: any) => d.messageId === r1.body.messageId)).toBe(false);

    const unsupported = interchange({ from: 'RENOWMS', to: 'ACMEHOME', isa13: 951, functionalId: 'SM', sets: [{ id: '204', control: '0001', body: ['B2**SCAC**SH-1'] }] });
    const r2 = await post(hub, unsupported);
    expect(r2.body.acks[0].content).toMatch(/AK5\*R\*1/);
    const e2 = await exceptionsOf(r2.body.messageId);
    expect(e2.map((e) => e.code)).toEqual(['INTEGRATION.EDI_SYNTAX_ERROR']);

    const badGs06 = interchange({ from: 'RENOWMS', to: 'ACMEHOME', isa13: 952, functionalId: 'AW', sets: [{ id: '947', control: '0001', body }] }).replace(/\*1200\*952\*X\*/, '*1200*ABC*X*').replace('GE*1*952', 'GE*1*ABC');
    const r3 = await post(hub, badGs06);
    expect(['routed', 'failed']).toContain(r3.body.status);
    expect((await api(hub.url, 'GET', `/v1/messages/${r3.body.messageId}`)).body.status).not.toBe('dead');
  });

  it('stores input that is not X12 and reports where it breaks, without crashing', async () => {
    const notX12 = await post(hub, 'hello, this is not EDI');
    expect(notX12).toMatchObject({ status: 400, body: { message: expect.stringMatching(/not X12: expected an ISA segment/) } });
    const truncated = await post(hub, fixture('generated/947-damaged.edi').subarray(0, 60));
    expect(truncated.status).toBe(202);
    const m = await waitFor(async () => {
      const r = (await api(hub.url, 'GET', `/v1/messages/${truncated.body.messageId}`)).body;
      return r.status === 'failed' ? r : undefined;
    });
    expect(m.exceptions.map((e: any) => e.code)).toEqual(['INTEGRATION.MALFORMED_PAYLOAD']);
    expect(m.errors[0].message).toMatch(/truncated ISA/);
    const binary = await post(hub, Buffer.from([0x49, 0x53, 0x41, 0x00, 0x01, 0xff, 0xfe]));
    expect([202, 400]).toContain(binary.status);
    expect((await fetch(`${hub.url}/health/live`)).status).toBe(200);
  });
});

describe('X12 acknowledgments we wait for', () => {
  let world: TestWorld;
  let hub: RunningHub & { url: string };

  beforeAll(async () => {
    world = newWorld({ HUB_WATCH_INTERVAL_MS: '300', HUB_MAX_FILE_BYTES: '65536' });
    hub = await startInProcess(world);
    const partner = { ...RENO, ackWindowHours: 0.0005 }; // 1.8 s
    expect((await api(hub.url, 'POST', '/v1/connectors', { body: { ...EDI, config: { ...EDI.config, partners: [partner] } } })).status).toBe(201);
  });
  afterAll(async () => {
    await hub?.close();
    await world?.drop();
  });

  const outbound850 = (isa13: number, po: string) =>
    interchange({ from: 'ACMEHOME', to: 'RENOWMS', isa13, functionalId: 'PO', sets: [{ id: '850', control: '0001', body: [`BEG*00*SA*${po}**20261127`, 'PO1*1*1*EA*1**VP*P-1', 'CTT*1'] }] });
  const ack997 = (isa13: number, group: number) =>
    interchange({ from: 'RENOWMS', to: 'ACMEHOME', isa13, functionalId: 'FA', sets: [{ id: '997', control: '0001', body: [`AK1*PO*${group}`, 'AK2*850*0001', 'AK5*A', 'AK9*A*1*1*1'] }] });

  it('raises INTEGRATION.ACK_OVERDUE once for a group the partner never acknowledged, and not for one it did', async () => {
    const late = await post(hub, outbound850(7001, 'PO-LATE'), 'wait=10&direction=outbound');
    const onTime = await post(hub, outbound850(7002, 'PO-ONTIME'), 'wait=10&direction=outbound');
    expect((await post(hub, ack997(80, 7002))).body.status).toBe('parsed');
    const c = await waitFor(async () => (await api(hub.url, 'GET', '/v1/cases?code=INTEGRATION.ACK_OVERDUE')).body.items[0], 10000, 'ACK_OVERDUE case');
    expect(c).toMatchObject({ correlationKey: 'ack-overdue:edi:reno-3pl', ownerTeam: 'integration-support' });
    await new Promise((r) => setTimeout(r, 1500));
    const detail = (await api(hub.url, 'GET', `/v1/cases/${c.id}`)).body;
    expect(detail.exceptions).toHaveLength(1);
    expect(detail.exceptions[0].source.messageId).toBe(late.body.messageId);
    expect(detail.exceptions[0].title).toMatch(/No 997\/999 from Reno 3PL for group 7001/);
    const onTimeMsg = (await api(hub.url, 'GET', `/v1/messages/${onTime.body.messageId}`)).body;
    expect(onTimeMsg.exceptions).toEqual([]);
  });

  it('refuses a file over HUB_MAX_FILE_BYTES with 413 naming the limit', async () => {
    const big = Buffer.alloc(70_000, 'A');
    const res = await post(hub, big);
    expect(res).toMatchObject({ status: 413, body: { message: 'body is over the limit of 65536 bytes (HUB_MAX_FILE_BYTES)' } });
  });
});

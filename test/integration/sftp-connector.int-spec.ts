import { existsSync, readdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import path from 'node:path';
import { walk } from '../../connectors/x12/envelope.js';
import type { RunningHub } from '../../src/hub.js';
import { api, newWorld, sleep, startInProcess, waitFor, type TestWorld } from '../support/hub-harness.js';
import { startSshd, type TestSshd } from '../support/sshd.js';
import { fixture } from '../support/x12-fixtures.js';

const FEEDS = ['csv', 'jsonl', 'xml', 'x12', 'down', 'pinned'];

/** The SFTP connector through the whole hub, against a real OpenSSH sshd. */
describe('SFTP connector (real sshd, hub in process)', () => {
  let sshd: TestSshd;
  let world: TestWorld;
  let hub: RunningHub & { url: string };
  const dirOf = (feed: string, folder: string) => path.join(sshd.root, feed, folder);
  const ls = (feed: string, folder: string) => readdirSync(dirOf(feed, folder)).sort();
  const instance = (id: string, config: Record<string, unknown>, secrets: Record<string, unknown> = { privateKey: sshd.userPrivateKey }) => ({
    id, type: 'sftp', name: `SFTP ${id}`,
    config: {
      system: `sftp-${id}`, mapping: 'sftp-batch', host: '127.0.0.1', port: sshd.port, username: sshd.username, hostKeySha256: sshd.hostKeySha256,
      inbox: `/${id}/inbox`, archive: `/${id}/archive`, error: `/${id}/error`, pollIntervalSeconds: 0.3, connectTimeoutSeconds: 5, ...config,
    },
    secrets,
  });
  const create = async (decl: object) => {
    const res = await api(hub.url, 'POST', '/v1/connectors', { body: decl });
    expect(res.status).toBe(201);
  };
  const messagesOf = async (connectorId: string) =>
    (await world.db.query(`SELECT id, status, meta FROM inbound_messages WHERE connector_id = $1 AND meta->>'origin' = 'poll' ORDER BY received_at`, [connectorId])).rows;
  const exceptions = async (connectorId: string, code?: string) =>
    (await world.db.query(`SELECT code, payload FROM exceptions WHERE connector_id = $1 ${code ? 'AND code = $2' : ''} ORDER BY detected_at`, code ? [connectorId, code] : [connectorId])).rows;

  beforeAll(async () => {
    sshd = await startSshd(FEEDS.flatMap((f) => ['inbox', 'archive', 'error', 'outbox'].map((d) => `${f}/${d}`)));
    world = newWorld();
    hub = await startInProcess(world, { HUB_POLL_TICK_MS: '100', HUB_POLL_LEASE_MS: '5000' });
  });
  afterAll(async () => {
    await hub?.close();
    await world?.drop();
    await sshd?.dispose();
  });

  it('validates instances when they are created: a precise 400 naming the setting', async () => {
    const bad = instance('csv', { format: 'csv', hostKeySha256: 'md5:ab:cd' });
    const res = await api(hub.url, 'POST', '/v1/connectors', { body: bad });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/^config\.hostKeySha256: .*SHA256/);
    const noSecret = await api(hub.url, 'POST', '/v1/connectors', { body: instance('csv', { format: 'csv' }, {}) });
    expect(noSecret.body.message).toMatch(/secrets\.password: give a password or a privateKey/);
  });

  it('CSV: bad rows become one exception listing row numbers; good rows are processed; the file is archived with a timestamp', async () => {
    writeFileSync(
      path.join(dirOf('csv', 'inbox'), 'reno-shipments.csv'),
      [
        'Order No,Customer,SKU,Ordered,Shipped,UOM,Site,Reason',
        'SO-9001,C-1007,TB-2200-OAK,4,1,each,RNO1,damaged in putaway',
        'SO-9001,C-1007,LMP-90-WHT,20,20,EA,RNO1,',
        'SO-9002,C-2001,HX-2210,10,6,EA,RNO1',
        'SO-9003,C-2001,"HX-33, blue",5,0,CS,RNO1,"no stock, backordered"',
      ].join('\r\n') + '\r\n',
    );
    await create(instance('csv', { format: 'csv', glob: '*.csv', recordType: 'short-ship', batchRecords: 2, csv: { columns: { 'Order No': 'order', Customer: 'customer', SKU: 'sku', Ordered: 'ordered', Shipped: 'shipped', UOM: 'uom', Site: 'site', Reason: 'reason' } } }));
    await waitFor(async () => ls('csv', 'archive').length === 1, 20000, 'the CSV file to be archived');
    expect(ls('csv', 'inbox')).toEqual([]);
    expect(ls('csv', 'archive')[0]).toMatch(/^reno-shipments\.csv\.\d{8}T\d{6}Z$/);
    const msgs = await messagesOf('csv');
    expect(msgs).toHaveLength(2);
    await waitFor(async () => (await messagesOf('csv')).every((m) => m.status !== 'received'), 20000, 'processing');
    const shortfalls = await exceptions('csv', 'WAREHOUSE.PICK_SHORTFALL');
    expect(shortfalls.map((e) => [e.payload.references.sku, e.payload.attributes.row])).toEqual([['TB-2200-OAK', 1], ['HX-33, blue', 4]]);
    const bad = await exceptions('csv', 'INTEGRATION.MALFORMED_PAYLOAD');
    expect(bad).toHaveLength(1);
    expect(bad[0].payload.title).toMatch(/1 bad record\(s\) in reno-shipments\.csv: row 3/);
    expect(bad[0].payload.attributes.badRecords).toEqual([{ row: 3, reason: expect.stringMatching(/Invalid Record Length/) }]);
  });

  it('JSON lines: a file still being written is not taken until it stops changing', async () => {
    await create(instance('jsonl', { format: 'jsonl', glob: '*.jsonl', recordType: 'inventory-variance' }));
    const file = path.join(dirOf('jsonl', 'inbox'), 'counts.jsonl');
    const line = (i: number) => JSON.stringify({ sku: `SKU-${i}`, location: 'A-1', site: 'DAL2', expectedQty: 10, countedQty: 10 - (i % 2), uom: 'EA' }) + '\n';
    writeFileSync(file, line(0));
    for (let i = 1; i < 12; i++) {
      await sleep(200);
      expect(ls('jsonl', 'archive')).toEqual([]);
      appendFileSync(file, line(i));
    }
    await waitFor(async () => ls('jsonl', 'archive').length === 1, 20000, 'the finished file to be archived');
    await waitFor(async () => (await exceptions('jsonl', 'WAREHOUSE.INVENTORY_VARIANCE')).length === 6, 20000, 'six variances');
    expect((await exceptions('jsonl')).map((e) => e.code)).not.toContain('INTEGRATION.MALFORMED_PAYLOAD');
  });

  it('XML: an entity bomb is refused before any parser sees it: error folder, .error.txt, an exception with the reason', async () => {
    await create(instance('xml', { format: 'xml', glob: '*.xml', recordType: 'inventory-variance', xml: { recordPath: 'Counts.Count' } }));
    const bomb = `<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>\n<Counts><Count><sku>&lol2;</sku></Count></Counts>\n`;
    writeFileSync(path.join(dirOf('xml', 'inbox'), 'bomb.xml'), bomb);
    await waitFor(async () => ls('xml', 'error').length === 2, 20000, 'the file in the error folder');
    expect(ls('xml', 'error')).toEqual(['bomb.xml', 'bomb.xml.error.txt']);
    expect(readFileSync(path.join(dirOf('xml', 'error'), 'bomb.xml'), 'utf8')).toBe(bomb);
    expect(readFileSync(path.join(dirOf('xml', 'error'), 'bomb.xml.error.txt'), 'utf8')).toMatch(/DOCTYPE or entity declarations is refused \(line 2\)/);
    const excs = await waitFor(async () => {
      const e = await exceptions('xml', 'INTEGRATION.MALFORMED_PAYLOAD');
      return e.length ? e : null;
    });
    expect(excs[0].payload.attributes).toMatchObject({ file: 'bomb.xml', reason: expect.stringMatching(/entity expansion is disabled/) });
    expect(await messagesOf('xml')).toEqual([]);

    writeFileSync(path.join(dirOf('xml', 'inbox'), 'counts.xml'), '<Counts><Count><sku>A-1</sku><location>L1</location><site>DAL2</site><expectedQty>5</expectedQty><countedQty>3</countedQty><uom>EA</uom></Count><Count><sku>A-2</sku><location>L1</location><site>DAL2</site><expectedQty>5</expectedQty><countedQty>5</countedQty></Count></Counts>');
    await waitFor(async () => (await exceptions('xml', 'WAREHOUSE.INVENTORY_VARIANCE')).length === 1, 20000, 'a variance from the XML file');
  });

  it('X12: read through the x12 connector; the 997 is written to the outbox atomically and marked delivered', async () => {
    await create(
      instance('x12', {
        format: 'x12', mapping: 'x12-documents', glob: '*.edi', outbox: '/x12/outbox',
        x12: { us: { qualifier: 'ZZ', id: 'ACMEHOME' }, partners: [{ id: 'reno-3pl', name: 'Reno 3PL', isa: { qualifier: 'ZZ', id: 'RENOWMS' }, ack: '997' }] },
      }),
    );
    writeFileSync(path.join(dirOf('x12', 'inbox'), 'inbound-947.edi'), Buffer.concat([fixture('generated/947-damaged.edi'), Buffer.from('\r\n')]));
    // Written under a temp name (".<name>.part") and renamed: a reader only ever sees whole files.
    const finals = () => ls('x12', 'outbox').filter((n) => !n.startsWith('.'));
    await waitFor(async () => finals().length === 1 && ls('x12', 'outbox').length === 1, 60000, 'the 997 in the outbox');
    const [name] = finals();
    expect(name).toMatch(/^997_reno-3pl_\d{9}_[0-9a-f]{12}\.edi$/);
    const [ack] = walk(readFileSync(path.join(dirOf('x12', 'outbox'), name), 'utf8'));
    expect(ack.findings).toEqual([]);
    expect(ack).toMatchObject({ senderId: 'ACMEHOME', receiverId: 'RENOWMS' });
    expect(ls('x12', 'archive')).toHaveLength(1);
    const [msg] = await messagesOf('x12');
    const acks = (await api(hub.url, 'GET', `/v1/messages/${msg.id}/acks`)).body;
    expect(JSON.stringify(acks)).toMatch(/deliveredAt|delivered_at/);
    expect((await exceptions('x12', 'WAREHOUSE.DAMAGED_GOODS')).length).toBe(2);
  });

  it('POST /v1/connectors/{id}/test connects and lists the inbox', async () => {
    writeFileSync(path.join(dirOf('csv', 'inbox'), 'not-stable-yet.txt'), 'x');
    const res = await api(hub.url, 'POST', '/v1/connectors/csv/test');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true, details: { inbox: [{ name: 'not-stable-yet.txt', matches: false }], folders: { archive: 'ok', error: 'ok' } } });
  });

  it('a pinned host key that does not match raises CONNECTOR_DOWN at once, with the reason', async () => {
    await create(instance('pinned', { format: 'jsonl', hostKeySha256: 'SHA256:' + 'B'.repeat(43) }));
    const excs = await waitFor(async () => {
      const e = await exceptions('pinned', 'INTEGRATION.CONNECTOR_DOWN');
      return e.length ? e : null;
    });
    expect(excs[0].payload.title).toMatch(/host key mismatch/);
    const status = (await api(hub.url, 'GET', '/v1/connectors/pinned/status')).body;
    expect(status).toMatchObject({ health: 'down', polling: { lastError: { kind: 'host-key-mismatch' } } });
    await api(hub.url, 'POST', '/v1/connectors', { body: { ...instance('pinned', { format: 'jsonl' }), enabled: false } });
  });

  it('server stopped: failures counted, CONNECTOR_DOWN after N, resolved automatically when the server is back', async () => {
    await create(instance('down', { format: 'jsonl', downAfterFailures: 2 }));
    await waitFor(async () => (await api(hub.url, 'GET', '/v1/connectors/down/status')).body.polling?.lastSuccessAt, 10000, 'a first successful poll');
    await sshd.stop();
    try {
      const status = await waitFor(async () => {
        const s = (await api(hub.url, 'GET', '/v1/connectors/down/status')).body;
        return s.health === 'down' ? s : null;
      }, 20000, 'the connector to be reported down');
      expect(status.polling).toMatchObject({ consecutiveFailures: expect.any(Number), lastError: { kind: 'unreachable' } });
      expect(status.polling.consecutiveFailures).toBeGreaterThanOrEqual(2);
      const cases = (await api(hub.url, 'GET', '/v1/cases?code=INTEGRATION.CONNECTOR_DOWN')).body.items.filter((c: any) => c.correlationKey === 'connector-down:down');
      expect(cases).toHaveLength(1);
      expect(cases[0].status).not.toBe('resolved');
    } finally {
      await sshd.start();
    }
    await waitFor(async () => (await api(hub.url, 'GET', '/v1/connectors/down/status')).body.health === 'ok', 30000, 'recovery');
    const after = (await api(hub.url, 'GET', '/v1/cases?code=INTEGRATION.CONNECTOR_DOWN')).body.items.filter((c: any) => c.correlationKey === 'connector-down:down');
    expect(after[0]).toMatchObject({ status: 'resolved', rootCause: 'SYSTEM_OUTAGE' });
  });
});

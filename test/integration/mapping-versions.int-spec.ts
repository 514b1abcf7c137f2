import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ADMIN_KEY, api, newWorld, pickShortfall, postWebhook, startInProcess, waitFor, type TestWorld } from '../support/hub-harness.js';
import { downgradeShortfalls, TABLES, wmsMappingBody, baselineDirs } from '../support/mapping-versions.js';
import type { RunningHub } from '../../src/hub.js';

/** Publish (immutable), activate, roll back, dry-run, regression diff and reprocess, against the real hub. */
describe('versioned mappings and policies', () => {
  let world: TestWorld;
  let hub: RunningHub & { url: string };

  beforeAll(async () => {
    world = newWorld(baselineDirs());
    hub = await startInProcess(world);
  });
  afterAll(async () => {
    await hub?.close();
    await world?.drop();
  });

  const counts = async () => {
    const out: Record<string, number> = {};
    for (const t of TABLES) out[t] = Number((await world.db.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n);
    return out;
  };
  const processed = (id: string) =>
    waitFor(async () => {
      const r = await api(hub.url, 'GET', `/v1/messages/${id}`);
      return ['routed', 'mapped', 'parsed', 'failed'].includes(r.body.status) ? r.body : undefined;
    }, 15000, `message ${id} processed`);
  const trail = async (entityType: string, entityId: string) => (await api(hub.url, 'GET', `/v1/audit?entityType=${entityType}&entityId=${entityId}`)).body.items;
  const damaged = (asn: string) => {
    const s = JSON.parse(readFileSync('samples/wms/goods-damaged.json', 'utf8'));
    s.receipt.asn = asn;
    s.occurredAt = new Date().toISOString();
    return JSON.stringify(s);
  };

  it('publishes the folders at start, each version once', async () => {
    const r = await api(hub.url, 'GET', '/v1/mappings/wms-webhook/versions');
    expect(r.status).toBe(200);
    expect(r.body.items).toEqual([expect.objectContaining({ version: '1.0.0', origin: 'folder', publishedBy: 'hub' })]);
    expect((await api(hub.url, 'GET', '/v1/policies/default/versions')).body.items).toEqual([expect.objectContaining({ version: '1.0.0', origin: 'folder' })]);
    expect((await api(hub.url, 'GET', '/v1/mappings/wms-webhook/activations')).body).toEqual({ defaultVersion: '1.0.0', items: [] });
  });

  it('keeps a published version immutable: 201 new, 200 same content again, 409 other content, 422 invalid', async () => {
    const body = await wmsMappingBody('1.1.0', downgradeShortfalls);
    const first = await api(hub.url, 'POST', '/v1/mappings/wms-webhook/versions', { body });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ id: 'wms-webhook', version: '1.1.0', created: true });
    const again = await api(hub.url, 'POST', '/v1/mappings/wms-webhook/versions', { body });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ created: false, sha256: first.body.sha256 });

    const other = await api(hub.url, 'POST', '/v1/mappings/wms-webhook/versions', { body: { ...body, transform: body.transform.replace('Pick shortfall on order', 'Short pick on order') } });
    expect(other.status).toBe(409);
    expect(other.body.message).toMatch(/wms-webhook@1\.1\.0 is already published with other content .*publish a new version instead/);
    // The shipped 1.0.0 cannot be overwritten through the API either.
    expect((await api(hub.url, 'POST', '/v1/mappings/wms-webhook/versions', { body: { ...body, manifest: { ...body.manifest, version: '1.0.0' } } })).status).toBe(409);

    const broken = await api(hub.url, 'POST', '/v1/mappings/wms-webhook/versions', { body: { ...body, manifest: { ...body.manifest, version: '1.1.1' }, transform: '( $x := ' } });
    expect(broken.status).toBe(422);
    expect(broken.body.message).toMatch(/^transform\.jsonata: .* at position \d+/);
    const wrongId = await api(hub.url, 'POST', '/v1/mappings/other-id/versions', { body });
    expect(wrongId.status).toBe(422);
    const badManifest = await api(hub.url, 'POST', '/v1/mappings/wms-webhook/versions', { body: { ...body, manifest: { ...body.manifest, version: 'latest' } } });
    expect(badManifest.status).toBe(400);
    expect(badManifest.body.message).toMatch(/manifest\.version: must be a semantic version/);

    // Fixtures sent with a version must pass: 1.1.0's change breaks the shipped expectations for 1.2.0 too.
    const withFixtures = await wmsMappingBody('1.2.0', downgradeShortfalls, true);
    const refused = await api(hub.url, 'POST', '/v1/mappings/wms-webhook/versions', { body: withFixtures });
    expect(refused.status).toBe(422);
    expect(refused.body.fixtures.map((f: any) => f.name).sort()).toEqual(['goods-damaged.json', 'pick-shortfall.json', 'unknown-type.json']);
    expect(refused.body.fixtures.find((f: any) => f.name === 'pick-shortfall.json').differences).toContain('[0].customerTier: expected "priority", got "standard"');
    expect((await api(hub.url, 'GET', '/v1/mappings/wms-webhook/versions')).body.items.map((v: any) => v.version)).toEqual(['1.1.0', '1.0.0']);

    const audit = await trail('mapping', 'wms-webhook');
    expect(audit.filter((a: any) => a.action === 'mapping.published').map((a: any) => [a.actorId, a.after.version])).toEqual([['hub', '1.0.0'], ['admin', '1.1.0']].map(([who, v]) => [expect.any(String), v]));
  });

  it('dry-runs a version on a sample payload: output, exceptions, validation problems; writes nothing', async () => {
    const before = await counts();
    const ok = await api(hub.url, 'POST', '/v1/mappings/wms-webhook/versions/1.1.0/test', { body: { payload: JSON.parse(pickShortfall('SO-DRY-1')) } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ ok: true, documentType: 'pick.shortfall', problems: [], output: [expect.objectContaining({ code: 'WAREHOUSE.PICK_SHORTFALL', customerTier: 'standard' })] });
    expect(ok.body.exceptions[0]).toMatchObject({ mapping: { id: 'wms-webhook', version: '1.1.0' }, correlationKey: 'order:SO-DRY-1' });

    const bad = await api(hub.url, 'POST', '/v1/mappings/wms-webhook/versions/1.0.0/test', { body: { payload: { type: 'pick.shortfall', line: { sku: 'A', orderedQty: 2, pickedQty: 1 } } } });
    expect(bad.status).toBe(200);
    expect(bad.body.ok).toBe(false);
    expect(bad.body.problems.length).toBeGreaterThan(0);
    const unknown = await api(hub.url, 'POST', '/v1/mappings/wms-webhook/versions/1.0.0/test', { body: { payload: { type: 'truck.arrived' } } });
    expect(unknown.body.problems).toEqual(['no rule in wms-webhook@1.0.0 for document type "truck.arrived"']);
    expect((await api(hub.url, 'POST', '/v1/mappings/wms-webhook/versions/9.9.9/test', { body: { payload: {} } })).status).toBe(404);
    expect(await counts()).toEqual(before);
  });

  let shortfallMsg: string;
  let damagedMsg: string;
  it('regression diff: replays a candidate over stored messages and reports what would change, writing nothing', async () => {
    const sent = [await postWebhook(hub.url, world, pickShortfall('SO-HIST-1')), await postWebhook(hub.url, world, damaged('ASN-HIST-1')), await postWebhook(hub.url, world, readFileSync('mappings/wms-webhook/1.0.0/fixtures/ok/pick-completed.json'))];
    for (const s of sent) await processed(s.body.messageId);
    [shortfallMsg, damagedMsg] = sent.map((s) => s.body.messageId);
    const before = await counts();

    const same = await api(hub.url, 'POST', '/v1/mappings/wms-webhook/versions/1.0.0/diff?since=1d');
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ complete: true, stoppedBy: null, examinedMessages: 3, unchangedMessages: 3, summary: { appear: 0, disappear: 0, change: 0 } });

    const diff = await api(hub.url, 'POST', `/v1/mappings/wms-webhook/versions/1.1.0/diff?since=${encodeURIComponent(new Date(Date.now() - 3600_000).toISOString())}`);
    expect(diff.status).toBe(200);
    expect(diff.body).toMatchObject({ complete: true, examinedMessages: 3, unchangedMessages: 1, summary: { appear: 0, disappear: 1, change: 1 }, limits: { maxMessages: 500, timeoutMs: 20000 } });
    expect(diff.body.change[0]).toMatchObject({
      messageId: shortfallMsg,
      fields: ['severity'],
      before: { code: 'WAREHOUSE.PICK_SHORTFALL', severity: 'critical', team: 'warehouse-ops', mapping: { version: '1.0.0' } },
      after: { code: 'WAREHOUSE.PICK_SHORTFALL', severity: 'standard', team: 'warehouse-ops', mapping: { version: '1.1.0' } },
    });
    expect(diff.body.disappear[0]).toMatchObject({ messageId: damagedMsg, exception: { code: 'WAREHOUSE.DAMAGED_GOODS' } });

    const bounded = await api(hub.url, 'POST', '/v1/mappings/wms-webhook/versions/1.1.0/diff?since=1d&maxMessages=2');
    expect(bounded.body).toMatchObject({ complete: false, stoppedBy: 'max-messages', examinedMessages: 2 });
    expect((await api(hub.url, 'POST', '/v1/mappings/wms-webhook/versions/1.1.0/diff?since=yesterday')).status).toBe(400);
    expect(await counts()).toEqual(before);
  });

  it('activates a version for a connector instance with an audit entry; new messages use it', async () => {
    expect((await api(hub.url, 'POST', '/v1/mappings/wms-webhook/activations', { body: { version: '7.0.0' } })).status).toBe(404);
    expect((await api(hub.url, 'POST', '/v1/mappings/wms-webhook/activations', { body: { version: '1.1.0', connectorId: 'nope' } })).status).toBe(404);
    expect((await api(hub.url, 'POST', '/v1/mappings/wms-webhook/activations', { body: { version: '1.1.0', documentType: 'truck.arrived' } })).status).toBe(422);
    const act = await api(hub.url, 'POST', '/v1/mappings/wms-webhook/activations', { body: { version: '1.1.0', connectorId: 'test-wms' } });
    expect(act.status).toBe(200);
    expect(act.body).toMatchObject({ scope: 'test-wms/*', from: '1.0.0', to: '1.1.0', changed: true });
    const audit = (await trail('mapping', 'wms-webhook')).filter((a: any) => a.action === 'mapping.activated');
    expect(audit).toEqual([expect.objectContaining({ actorType: 'api-key', before: { scope: 'test-wms/*', version: '1.0.0' }, after: { scope: 'test-wms/*', version: '1.1.0' } })]);
    expect(audit[0].occurredAt).toBeTruthy();

    const res = await postWebhook(hub.url, world, pickShortfall('SO-NEW-1'));
    const msg = await processed(res.body.messageId);
    expect(msg.exceptions[0]).toMatchObject({ mappingId: 'wms-webhook', mappingVersion: '1.1.0', severity: 'standard' });
  });

  it('reprocess: a changed result is recorded anew, linked to the earlier one; an unchanged result creates nothing', async () => {
    const old = (await api(hub.url, 'GET', `/v1/messages/${shortfallMsg}`)).body.exceptions[0];
    const r = await api(hub.url, 'POST', `/v1/messages/${shortfallMsg}/reprocess`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ changed: true, mappings: ['wms-webhook@1.1.0'], superseded: [old.id], added: [{ supersedes: old.id }] });
    const msg = (await api(hub.url, 'GET', `/v1/messages/${shortfallMsg}`)).body;
    expect(msg.exceptions).toHaveLength(2);
    expect(msg.exceptions[0]).toMatchObject({ id: old.id, mappingVersion: '1.0.0', supersededAt: expect.any(String) });
    expect(msg.exceptions[1]).toMatchObject({ supersedes: old.id, mappingVersion: '1.1.0', severity: 'standard', supersededAt: null });
    expect((await trail('message', shortfallMsg)).map((a: any) => a.action)).toEqual(['message.accepted', 'message.processed', 'message.reprocessed']);
    expect((await trail('exception', old.id)).map((a: any) => a.action)).toEqual(['exception.created', 'exception.superseded']);

    const before = await counts();
    const again = await api(hub.url, 'POST', `/v1/messages/${shortfallMsg}/reprocess`);
    expect(again.body).toMatchObject({ changed: false, exceptions: [msg.exceptions[1].id] });
    const after = await counts();
    expect(after).toEqual({ ...before, audit_events: before.audit_events + 1 });

    // The damaged-goods exception is withdrawn by 1.1.0: marked superseded, nothing added.
    const gone = await api(hub.url, 'POST', `/v1/messages/${damagedMsg}/reprocess`);
    expect(gone.body).toMatchObject({ changed: true, added: [], superseded: [expect.any(String)], status: 'mapped' });
    expect((await api(hub.url, 'POST', `/v1/messages/00000000-0000-7000-8000-000000000000/reprocess`)).status).toBe(404);
  });

  it('rolls back to the version in force before, with an audit entry; nothing further to roll back is 409', async () => {
    const rb = await api(hub.url, 'POST', '/v1/mappings/wms-webhook/activations/rollback', { body: { connectorId: 'test-wms' } });
    expect(rb.status).toBe(200);
    expect(rb.body).toMatchObject({ scope: 'test-wms/*', from: '1.1.0', to: '1.0.0' });
    expect((await trail('mapping', 'wms-webhook')).filter((a: any) => a.action === 'mapping.rolled-back').map((a: any) => [a.before.version, a.after.version])).toEqual([['1.1.0', '1.0.0']]);
    const res = await postWebhook(hub.url, world, pickShortfall('SO-BACK-1'));
    expect((await processed(res.body.messageId)).exceptions[0]).toMatchObject({ mappingVersion: '1.0.0', severity: 'critical' });
    const more = await api(hub.url, 'POST', '/v1/mappings/wms-webhook/activations/rollback', { body: { connectorId: 'test-wms' } });
    expect(more.status).toBe(409);
  });

  it.each([
    ['a JSONata error', '1.3.0', '$error("no shortfalls today")', /^Mapping wms-webhook@1\.3\.0 failed: JSONata error .*no shortfalls today/],
    ['a runaway expression (timeout)', '1.4.0', '($f := function($n){ $f($n+1) }; $f(0))', /^Mapping wms-webhook@1\.4\.0 failed: evaluation exceeded (250 ms|depth \d+) and was stopped/],
  ])('turns %s in the version in force into INTEGRATION.MAPPING_FAILED naming mapping id + version, the error and the message', async (_what, version, code, title) => {
    const body = await wmsMappingBody(version, (t) => t.replace('"code": "WAREHOUSE.PICK_SHORTFALL",', `"code": ${code},`));
    expect((await api(hub.url, 'POST', '/v1/mappings/wms-webhook/versions', { body })).status).toBe(201);
    const dry = await api(hub.url, 'POST', `/v1/mappings/wms-webhook/versions/${version}/test`, { body: { payload: JSON.parse(pickShortfall('SO-DRY-ERR')) } });
    expect(dry.body).toMatchObject({ ok: false, output: null });
    expect(dry.body.problems[0]).toMatch(/JSONata error|was stopped/);
    const scope = { connectorId: 'test-wms', documentType: 'pick.shortfall' };
    expect((await api(hub.url, 'POST', '/v1/mappings/wms-webhook/activations', { body: { version, ...scope } })).body).toMatchObject({ scope: 'test-wms/pick.shortfall' });
    const res = await postWebhook(hub.url, world, pickShortfall(`SO-ERR-${version}`));
    const msg = await processed(res.body.messageId);
    expect(msg.status).toBe('failed');
    expect(msg.exceptions[0]).toMatchObject({ code: 'INTEGRATION.MAPPING_FAILED', mappingId: 'wms-webhook', mappingVersion: version });
    const [row] = (await world.db.query(`SELECT payload FROM exceptions WHERE id = $1`, [msg.exceptions[0].id])).rows;
    expect(row.payload.title).toMatch(title);
    expect(row.payload.attributes).toMatchObject({ rawMessageId: res.body.messageId });
    expect(msg.errors.map((e: any) => e.stage)).toEqual(['map']);
    // Other document types keep the version in force for them.
    const other = await postWebhook(hub.url, world, damaged(`ASN-OK-${version}`));
    expect((await processed(other.body.messageId)).exceptions[0]).toMatchObject({ code: 'WAREHOUSE.DAMAGED_GOODS', mappingVersion: '1.0.0' });
    expect((await api(hub.url, 'POST', '/v1/mappings/wms-webhook/activations/rollback', { body: scope })).status).toBe(200);
  });

  it('stores routing policies the same way: publish, 409, activate (the Router uses it), roll back', async () => {
    const policy = JSON.parse(readFileSync('policies/default/1.0.0/policy.json', 'utf8'));
    const next = { ...policy, version: '1.1.0', rules: policy.rules.map((r: any) => (r.id === 'priority-fulfilment-risk' ? { ...r, then: { team: 'customer-service', severity: 'critical' } } : r)) };
    expect((await api(hub.url, 'POST', '/v1/policies/default/versions', { body: next })).status).toBe(201);
    expect((await api(hub.url, 'POST', '/v1/policies/default/versions', { body: next })).status).toBe(200);
    expect((await api(hub.url, 'POST', '/v1/policies/default/versions', { body: { ...next, fallback: { team: 'finance-ap' } } })).status).toBe(409);
    const invalid = await api(hub.url, 'POST', '/v1/policies/default/versions', { body: { ...next, version: '1.2.0', fallback: { team: 'nobody' } } });
    expect(invalid.status).toBe(422);
    expect(invalid.body.message).toMatch(/fallback\.team: team nobody is not declared in teams/);

    const act = await api(hub.url, 'POST', '/v1/policies/default/activations', { body: { version: '1.1.0' } });
    expect(act.body).toMatchObject({ scope: '*', from: '1.0.0', to: '1.1.0' });
    const res = await postWebhook(hub.url, world, pickShortfall('SO-POL-1'));
    await processed(res.body.messageId);
    const c = (await api(hub.url, 'GET', '/v1/cases?correlationKey=order:SO-POL-1')).body.items[0];
    expect(c).toMatchObject({ ownerTeam: 'customer-service' });
    expect(c.routing.policy).toEqual({ id: 'default', version: '1.1.0' });

    expect((await api(hub.url, 'POST', '/v1/policies/default/activations/rollback')).body).toMatchObject({ from: '1.1.0', to: '1.0.0' });
    expect((await trail('policy', 'default')).map((a: any) => a.action)).toEqual(['policy.published', 'policy.published', 'policy.activated', 'policy.rolled-back']);
  });

  it('refuses to start (one line, naming the folder) when a shipped version was edited in place after it was published', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hub-mappings-'));
    cpSync('mappings', dir, { recursive: true });
    const file = path.join(dir, 'wms-webhook/1.0.0/transform.jsonata');
    writeFileSync(file, readFileSync(file, 'utf8').replace('Pick shortfall on order', 'Short pick on order'));
    const r = spawnSync(process.execPath, ['dist/src/main.js', 'start'], {
      env: { PATH: process.env.PATH ?? '', ...world.env, HUB_MAPPINGS_DIR: dir, HUB_ROLES: 'api' },
      encoding: 'utf8',
      timeout: 90000,
    });
    expect(r.status).not.toBe(0);
    const lines = r.stderr.trim().split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/wms-webhook\/1\.0\.0: mapping wms-webhook@1\.0\.0 is already published with other content .*give the folder a new version \(e\.g\. 1\.0\.1\)/);
  }, 120_000);

  it('lets only integrators and admins change versions', async () => {
    const created = await api(hub.url, 'POST', '/v1/api-keys', { body: { name: 'viewer', role: 'viewer' } });
    const key = created.body.key;
    expect((await api(hub.url, 'POST', '/v1/mappings/wms-webhook/activations', { key, body: { version: '1.1.0' } })).status).toBe(403);
    expect((await api(hub.url, 'GET', '/v1/mappings/wms-webhook/versions', { key })).status).toBe(200);
    expect(ADMIN_KEY).toBeTruthy();
  });
});

import { Writable } from 'node:stream';
import pino from 'pino';
import type { ActionRequest } from '../../src/connectors/connector.js';
import { readChanges } from './delta-reader.js';
import { ErpHttp, parseXml } from './erp-http.js';
import { ErpRestConnector } from './erp-rest.connector.js';
import { LocalRequestBudget } from './request-budget.js';
import { ErpSimulator } from './simulator/erp-simulator.js';
import { seedSample } from './simulator/sample-data.js';
import { simulatorInstance, type AuthKind, type Style } from './simulator/test-instances.js';

const STYLES: Style[] = ['odata-v4', 'odata-v2', 'rest'];

describe('ERP actions, lookups and auth against the simulator', () => {
  let sim: ErpSimulator;
  let erp: ErpRestConnector;
  let logged: string;
  beforeEach(async () => {
    sim = new ErpSimulator();
    await sim.start();
    seedSample(sim);
    logged = '';
    const sink = new Writable({ write: (chunk, _enc, cb) => ((logged += chunk.toString()), cb()) });
    erp = new ErpRestConnector(new ErpHttp(new LocalRequestBudget(), pino({ level: 'trace' }, sink)));
  });
  afterEach(() => sim.stop());

  const req = (action: string, params: Record<string, unknown>, key = `case-1:${action}`): ActionRequest => ({ action, params, idempotencyKey: key, caseId: 'case-1', attempt: 1 });
  const run = (inst: ReturnType<typeof simulatorInstance>, r: ActionRequest) => erp.actions[r.action].run(inst, { ...r, params: erp.actions[r.action].paramsSchema.parse(r.params) });

  it.each(STYLES)('%s: the same idempotency key twice places one invoice hold; a new key finds the hold already there', async (style) => {
    const inst = simulatorInstance(sim, style);
    const first = await run(inst, req('placeInvoiceHold', { order: 'SO-88123', reason: 'pick shortfall on a priority order' }));
    expect(first).toMatchObject({ status: 'done', response: { OrderId: 'SO-88123', InvoiceHold: true, HoldsPlaced: 1 } });
    const again = await run(inst, req('placeInvoiceHold', { order: 'SO-88123', reason: 'pick shortfall on a priority order' }));
    expect(again).toEqual(first);
    expect(sim.data.get('SalesOrders', 'SO-88123')).toMatchObject({ InvoiceHold: true, HoldsPlaced: 1, InvoiceHoldBy: 'exception-hub' });
    const writes = sim.log.filter((l) => l.method === 'POST' && l.path.includes('InvoiceHold') || l.path.includes('invoice-hold'));
    expect(writes.every((w) => w.headers['idempotency-key'] === 'case-1:placeInvoiceHold')).toBe(true);

    const other = await run(inst, req('placeInvoiceHold', { order: 'SO-88123' }, 'case-2:placeInvoiceHold'));
    expect(other).toMatchObject({ status: 'done', summary: expect.stringContaining('already had') });
    expect(sim.data.get('SalesOrders', 'SO-88123')!.HoldsPlaced).toBe(1);

    expect(await run(inst, req('releaseInvoiceHold', { order: 'SO-88123' }))).toMatchObject({ status: 'done', response: { InvoiceHold: false } });
    expect(await run(inst, req('addOrderNote', { order: 'SO-88123', text: 'Hold released: stock found at SAC2' }))).toMatchObject({ status: 'done', response: { NoteNumber: 1 } });
    expect(sim.data.get('SalesOrders', 'SO-88123')).toMatchObject({ InvoiceHold: false, Notes: ['Hold released: stock found at SAC2'] });
  });

  it.each(STYLES)('%s: pauses and resumes the fulfilment of an order once per idempotency key, even when the answer to the pause is lost', async (style) => {
    const inst = simulatorInstance(sim, style);
    // The ERP applies the pause, then the connection drops: the client's retry carries the same key and gets the recorded answer.
    sim.loseAnswerNext(1, 'ulfilment');
    const paused = await run(inst, req('pauseFulfilment', { order: 'SO-88123', reason: 'hazmat paperwork missing' }));
    expect(paused).toMatchObject({ status: 'done', summary: 'fulfilment of order SO-88123 paused', response: { OrderId: 'SO-88123', FulfilmentHold: true, FulfilmentPauses: 1 } });
    const writes = sim.log.filter((l) => l.method === 'POST' && /ulfilment/.test(l.path));
    expect(writes.map((w) => w.status)).toEqual([0, 201]);
    expect(writes.every((w) => w.headers['idempotency-key'] === 'case-1:pauseFulfilment')).toBe(true);
    expect(sim.data.get('SalesOrders', 'SO-88123')).toMatchObject({ FulfilmentHold: true, FulfilmentPauses: 1, FulfilmentHoldBy: 'exception-hub', FulfilmentHoldReason: 'hazmat paperwork missing' });
    expect(paused.changed).toBe(true);
    // Case 2 finds the hold already placed: on its first attempt that is somebody else's hold (changed:
    // false, so its release leaves it); on a later attempt, after a lost answer, it may be its own (unset).
    expect(await run(inst, req('pauseFulfilment', { order: 'SO-88123' }, 'case-2:pauseFulfilment'))).toMatchObject({ status: 'done', summary: 'fulfilment of order SO-88123 was already paused', changed: false });
    expect((await run(inst, { ...req('pauseFulfilment', { order: 'SO-88123' }, 'case-2:pauseFulfilment'), attempt: 2 })).changed).toBeUndefined();
    // A 409 after a retry inside the same attempt (the first request's answer was a 503) may be to our
    // own request: not claimed either. A refusal (422) on the very first request: nothing was placed.
    sim.failNext(1, 503, { match: 'ulfilment' });
    expect(await run(inst, req('pauseFulfilment', { order: 'SO-88123' }, 'case-3:pauseFulfilment'))).toMatchObject({ status: 'done', summary: 'fulfilment of order SO-88123 was already paused' });
    sim.failNext(1, 503, { match: 'ulfilment' });
    expect((await run(inst, req('pauseFulfilment', { order: 'SO-88123' }, 'case-4:pauseFulfilment'))).changed).toBeUndefined();
    sim.failNext(1, 422, { match: 'ulfilment' });
    expect(await run(inst, req('pauseFulfilment', { order: 'SO-88123' }, 'case-5:pauseFulfilment'))).toMatchObject({ status: 'failed', retryable: false, changed: false });
    expect(erp.actions.resumeFulfilment.undoes).toBe('pauseFulfilment');
    expect(erp.actions.releaseInvoiceHold.undoes).toBe('placeInvoiceHold');

    expect(await run(inst, req('resumeFulfilment', { order: 'SO-88123' }))).toMatchObject({ status: 'done', summary: 'fulfilment of order SO-88123 resumed', response: { FulfilmentHold: false, FulfilmentResumes: 1 } });
    expect(await run(inst, req('resumeFulfilment', { order: 'SO-88123' }, 'case-2:resumeFulfilment'))).toMatchObject({ status: 'done', summary: 'fulfilment of order SO-88123 was not paused' });
    expect(sim.data.get('SalesOrders', 'SO-88123')).toMatchObject({ FulfilmentHold: false, FulfilmentPauses: 1, FulfilmentResumes: 1 });
    expect(await run(inst, req('pauseFulfilment', { order: 'SO-404' }, 'case-3:pauseFulfilment'))).toMatchObject({ status: 'failed', retryable: false });
  });

  it.each(STYLES)('%s: lookups return customer tier and credit, order value, alternate stock by site', async (style) => {
    const inst = simulatorInstance(sim, style);
    const signal = AbortSignal.timeout(5000);
    expect(await erp.lookups.customer.run(inst, { customer: 'C-1007' }, signal)).toMatchObject({ tier: 'priority', creditLimit: 250000, creditUsed: 180500, creditAvailable: 69500 });
    expect(await erp.lookups.order.run(inst, { order: 'SO-88123' }, signal)).toMatchObject({ value: 48250, currency: 'USD', customer: 'C-1007' });
    expect(await erp.lookups.alternateInventory.run(inst, { sku: 'HX-2210', site: 'RNO1' }, signal)).toEqual({
      sku: 'HX-2210', sites: [{ site: 'SAC2', available: 40 }, { site: 'LAS1', available: 6 }], totalAvailable: 46, bestSite: 'SAC2',
    });
    expect(await erp.lookups.customer.run(inst, { customer: 'C-404' }, signal)).toBeNull();
    const alt = await run(inst, req('queryAlternateInventory', { sku: 'HX-2210', excludeSite: 'RNO1' }));
    expect(alt).toMatchObject({ status: 'done', summary: '46 available at SAC2, LAS1' });
  });

  it('OData v2 writes fetch a CSRF token first and fetch a new one once when the ERP says it is no longer valid', async () => {
    const inst = simulatorInstance(sim, 'odata-v2', 'basic');
    await run(inst, req('addOrderNote', { order: 'SO-88123', text: 'one' }));
    const fetches = () => sim.log.filter((l) => l.headers['x-csrf-token'] === 'fetch').length;
    expect(fetches()).toBe(1);
    await run(inst, req('addOrderNote', { order: 'SO-88123', text: 'two' }, 'k2'));
    expect(fetches()).toBe(1); // cached
    sim.invalidateCsrf();
    expect(await run(inst, req('addOrderNote', { order: 'SO-88123', text: 'three' }, 'k3'))).toMatchObject({ status: 'done' });
    expect(fetches()).toBe(2);
    expect(sim.log.filter((l) => l.status === 403)).toHaveLength(1);
    expect(sim.data.get('SalesOrders', 'SO-88123')!.Notes).toEqual(['one', 'two', 'three']);
  });

  it('classifies failures: 404 and business refusals are final, 5xx and 429 retryable, with the ERP answer kept', async () => {
    const inst = simulatorInstance(sim, 'odata-v4', 'api-key', { retries: { attempts: 0, initialDelayMs: 1, maxDelayMs: 1 } });
    expect(await run(inst, req('placeInvoiceHold', { order: 'SO-NOPE' }))).toMatchObject({ status: 'failed', retryable: false, response: { status: 404 } });
    sim.failNext(1, 503, { match: 'InvoiceHold' });
    expect(await run(inst, req('placeInvoiceHold', { order: 'SO-88124' }, 'x1'))).toMatchObject({ status: 'failed', retryable: true, response: { status: 503 } });
    sim.failNext(1, 429, { match: 'Notes', retryAfter: '30' });
    expect(await run(inst, req('addOrderNote', { order: 'SO-88124', text: 'x' }, 'x2'))).toMatchObject({ status: 'failed', retryable: true, response: { status: 429 } });
    const noSecret = simulatorInstance(sim, 'odata-v4', 'basic');
    noSecret.secrets = {};
    expect(await run(noSecret, req('addOrderNote', { order: 'SO-88124', text: 'x' }, 'x3'))).toMatchObject({ status: 'failed', retryable: false, summary: expect.stringContaining('secrets.username') });
    // The failed 503 attempt did not place a hold; the retry with the same key will.
    expect(await run(inst, req('placeInvoiceHold', { order: 'SO-88124' }, 'x1'))).toMatchObject({ status: 'done' });
  });

  it.each(['oauth2-client-credentials', 'basic', 'api-key'] as AuthKind[])('%s: logs name requests but never a credential', async (auth) => {
    const inst = simulatorInstance(sim, 'odata-v2', auth);
    await erp.lookups.customer.run(inst, { customer: 'C-1007' }, AbortSignal.timeout(5000));
    await run(inst, req('addOrderNote', { order: 'SO-88123', text: 'n' }));
    sim.expireTokens();
    sim.failNext(1, 503, { match: 'Customers' });
    await readChanges(erp.http, inst, inst.config.feeds[1], null, { maxRecords: 100 });
    expect(logged).toContain('ERP request');
    expect(logged).toContain('ERP request retried');
    const c = sim.creds;
    const basic = Buffer.from(`${c.username}:${c.password}`).toString('base64');
    for (const secret of [c.clientSecret, c.password, c.apiKey, basic, Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')]) expect(logged).not.toContain(secret);
    const bearer = sim.log.map((l) => String(l.headers.authorization ?? '')).find((h) => h.startsWith('Bearer '));
    if (bearer) expect(logged).not.toContain(bearer.slice(7));
  });

  it('XML answers are parsed without expanding entities', async () => {
    const bomb = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><record><Name>&b;</Name><Note>Tom &amp; Jerry</Note></record>';
    expect(await parseXml(bomb)).toMatchObject({ record: [{ Name: '&b;', Note: 'Tom & Jerry' }] });
  });
});

import { mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';
import { seedReports } from '../../scripts/seed-reports.js';
import { api, newWorld, pickShortfall, postWebhook, startInProcess, type TestWorld } from '../support/hub-harness.js';

const ARTIFACTS = 'test-artifacts';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The dashboard in real headless Chromium against a real hub with a small seeded data set. */
describe('dashboard', () => {
  let world: TestWorld;
  let hub: Awaited<ReturnType<typeof startInProcess>>;
  let browser: Browser;
  let page: Page;
  let viewerKey: string;

  const text = (id: string) => page.locator(`#${id}`).innerText();
  const headline = async (q: string) => (await api(hub.url, 'GET', `/v1/reports/headline?${q}`, { key: viewerKey })).body.summary;
  const fmt = (n: number) => new Intl.NumberFormat('en-US').format(n);

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    world = newWorld();
    hub = await startInProcess(world);
    await seedReports(world.db, { exceptions: 3000, days: 60 });
    viewerKey = (await api(hub.url, 'POST', '/v1/api-keys', { body: { name: 'dash-viewer', role: 'viewer' } })).body.key;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
  }, 120000);
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
    await world?.drop();
  });

  it('signs in with an API key into an HttpOnly cookie and shows the API figures', async () => {
    const started = Date.now();
    await page.goto(`${hub.url}/dashboard`);
    await page.locator('#api-key').fill('ehk_wrong_key_000000000');
    await page.locator('#login-form button').click();
    await page.locator('#login-error').filter({ hasText: 'not valid' }).waitFor();
    await page.locator('#api-key').fill(viewerKey);
    await page.locator('#login-form button').click();
    await page.waitForFunction(() => document.body.dataset.loaded);
    const loadMs = Date.now() - started;
    const cookie = (await page.context().cookies()).find((c) => c.name === 'hub_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    // The cookie reads reports, but changes nothing.
    expect((await fetch(`${hub.url}/v1/cases`, { headers: { cookie: `hub_session=${viewerKey}` } })).status).toBe(401);

    const to = new Date();
    const from = new Date(to.getTime() - 30 * 86400000);
    const api30 = await headline(`from=${from.toISOString()}&to=${to.toISOString()}`);
    expect(await text('hl-exceptions')).toBe(fmt(api30.exceptions));
    expect(await text('hl-open')).toBe(fmt(api30.openCases));
    expect(await text('hl-critical')).toBe(fmt(api30.openCritical));
    expect(await page.locator('#scorecards tbody tr').count()).toBeGreaterThan(0);
    expect(await page.locator('#trend svg path').count()).toBeGreaterThan(0);
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-loaded.png`, fullPage: true });
    console.log(`dashboard first load (sign-in to all panels drawn): ${loadMs} ms`);
  });

  it('filters change the figures to the filtered API figures', async () => {
    await page.locator('select[name=site]').selectOption('RNO1');
    await page.locator('select[name=range]').selectOption('7');
    const to = new Date();
    const from = new Date(to.getTime() - 7 * 86400000);
    const filtered = await headline(`from=${from.toISOString()}&to=${to.toISOString()}&site=RNO1`);
    await page.waitForFunction((v) => document.getElementById('hl-exceptions')?.textContent === v, fmt(filtered.exceptions));
    expect(await text('hl-open')).toBe(fmt(filtered.openCases));
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-filtered.png`, fullPage: true });
  });

  it('a case posted as a WMS webhook appears live, without a reload', async () => {
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    await page.locator('#live:not(.off)').waitFor();
    const openBefore = Number((await text('hl-open')).replace(/,/g, ''));
    const critBefore = Number((await text('hl-critical')).replace(/,/g, ''));
    const order = `SO-LIVE-${randomUUID().slice(0, 8)}`;
    expect((await postWebhook(hub.url, world, pickShortfall(order))).status).toBe(202);
    await page.waitForFunction((n) => document.getElementById('hl-open')?.textContent === n, fmt(openBefore + 1), { timeout: 20000 });
    expect(await text('hl-critical')).toBe(fmt(critBefore + 1));
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-live.png`, fullPage: true });
  });
});

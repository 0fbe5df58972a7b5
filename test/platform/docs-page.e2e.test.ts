import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/stack.js';

/**
 * The reference page as a reader meets it: Debian's Chromium (installed by bin/ensure-chromium.sh where missing)
 * opens `/docs` of the local stack, Redoc renders the document, and every request the page makes is watched so that
 * one leaving the machine (a CDN, a font host) fails the test.
 */

const CHROMIUM = '/usr/bin/chromium';
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

let api: TestApi;
let profile: string;
let browser: BrowserContext;
const requested: string[] = [];
const leftTheMachine: string[] = [];

beforeAll(async () => {
  await promisify(execFile)('bin/ensure-chromium.sh', [], { timeout: 600_000 });
  api = await startTestApi();
  profile = mkdtempSync(join(tmpdir(), 'billow-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    // Without the background-networking flags Chromium calls Google's services on its own.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  await browser.route('**/*', async (route) => {
    const url = route.request().url();
    requested.push(url);
    const { protocol, hostname } = new URL(url);
    if ((protocol === 'http:' || protocol === 'https:') && !LOCAL_HOSTS.has(hostname)) {
      leftTheMachine.push(url);
      await route.abort('blockedbyclient');
      return;
    }
    await route.continue();
  });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await api?.stack.stop();
});

describe('GET /docs in a browser', () => {
  it('renders the getting-started section and an operation with its request and response fields, loading nothing from elsewhere and throwing nothing', async () => {
    const page = await browser.newPage();
    const scriptErrors: string[] = [];
    page.on('pageerror', (error) => scriptErrors.push(error.message));
    await page.goto(`${api.url}/docs`);
    const makePayment = page.locator('[id="tag/Payments/operation/postV1ClientsIdPayments"]');
    await makePayment.waitFor({ timeout: 30_000 });

    const headings = await page.locator('h2').allTextContents();
    expect(headings).toEqual(
      expect.arrayContaining(['Getting started', 'Get a token', 'Make a first call', 'Idempotency', 'Pagination', 'Errors', 'Money and quantities']),
    );
    await expect(page.locator('[id="section/Getting-started/Get-a-token"]').textContent()).resolves.toContain('POST /v1/auth/token');
    // Redoc writes a schema's field names in `.property-name`; the JSON samples of the right panel do not use it.
    const fields = await makePayment.locator('.property-name').allTextContents();
    // Fields of the request body only…
    expect(fields).toEqual(expect.arrayContaining(['source', 'apply', 'otherAmount', 'sendReceipt']));
    // …and of the 201 response (a Transaction) only: there only if Redoc rendered the response schema.
    expect(fields).toEqual(expect.arrayContaining(['applications', 'declineCode', 'refunded', 'createdAt']));

    expect(requested).toEqual(expect.arrayContaining([`${api.url}/docs`, `${api.url}/docs/redoc.standalone.js`, `${api.url}/openapi.json`]));
    expect(leftTheMachine).toEqual([]);
    expect(scriptErrors).toEqual([]);
  });
});

describe('GET /docs/redoc.standalone.js', () => {
  it('is the installed Redoc bundle, as JavaScript', async () => {
    const res = await api.call('GET', '/docs/redoc.standalone.js');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
    const installed = readFileSync(createRequire(import.meta.url).resolve('redoc/bundles/redoc.standalone.js'), 'utf8');
    expect(res.text).toBe(installed);
  });
});

/**
 * The resident portal as `npm start` assembles it (core, idp with a test My Number CA, consent,
 * points, portal) on a clock the tests can move forward, a partner's OpenID provider, and chromium
 * on a phone-sized viewport signed in with a test card through `/portal/login`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { type ConsentServices, consentModule } from '../../consent/index.ts';
import { createCoreModule } from '../../core/index.ts';
import { createIdpModuleWith, type IdpServices } from '../../idp/index.ts';
import { createPointsModule, type PointsService } from '../../points/index.ts';
import { createPortalModule, type PortalServices } from '../../portal/index.ts';
import { createCrl, createTestCa, issueCard } from '../idp/jpki_fixtures.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { freePort } from '../support/ports.ts';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface ResidentPortal {
  t: TestPlatform;
  idp: IdpServices;
  consent: ConsentServices;
  points: PointsService;
  portal: PortalServices;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  commonId: string;
  /** Moves the platform's clock forward. */
  advance(seconds: number): void;
  /** Serious and critical axe-core violations on the current page. */
  axe(): Promise<Array<{ id: string; impact: string | null; nodes: Array<{ target: string[] }> }>>;
  /** Opens the portal menu and follows one entry. */
  menu(name: RegExp): Promise<void>;
  stop(): Promise<void>;
}

export async function startResidentPortal(): Promise<ResidentPortal> {
  const ca = await createTestCa();
  const sign = await issueCard(ca, { kind: 'sign' });
  const auth = await issueCard(ca, { kind: 'auth' });
  const port = await freePort();
  let offset = 0;
  const t = await startTestPlatform({
    env: { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` },
    now: () => new Date(Date.now() + offset),
    modules: [
      createCoreModule,
      createIdpModuleWith({ jpki: { trustAnchors: ca.pem, test: true, crls: [await createCrl(ca, [])] } }),
      consentModule({ deliveryIntervalMs: 0, expiryIntervalMs: 0 }),
      createPointsModule,
      createPortalModule,
    ],
  });
  const services = t.platform.services;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  // axe is injected through page.evaluate; bypassCSP only lifts the page's script-src for that.
  const context = await browser.newContext({
    locale: 'ja-JP',
    viewport: { width: 390, height: 844 },
    bypassCSP: true,
  });
  const page = await context.newPage();

  await page.goto(`${t.url}/portal`);
  await page.waitForURL(/\/idp\/interaction\//);
  const nonce = (await page.textContent('#nonce'))!.trim();
  await page.fill('#signCertificate', sign.base64);
  await page.fill('#signSignature', await sign.sign(nonce));
  await page.fill('#enrollAuthCertificate', auth.base64);
  await page.fill('#enrollAuthSignature', await auth.sign(nonce));
  await page.click('#enroll');
  await page.waitForLoadState();
  if (await page.$('#consent')) await page.click('#consent');
  await page.waitForURL(`${t.url}/portal`);
  const cookie = (await context.cookies()).find((c) => c.name === 'tsunagu_portal')!;
  const commonId = JSON.parse(Buffer.from(cookie.value.split('.')[0]!, 'base64url').toString()).cid as string;

  return {
    t,
    idp: services['idp'] as IdpServices,
    consent: services['consent'] as ConsentServices,
    points: services['points'] as PointsService,
    portal: services['portal'] as PortalServices,
    browser,
    context,
    page,
    commonId,
    advance(seconds) {
      offset += seconds * 1000;
    },
    async axe() {
      await page.evaluate(AXE);
      const result = (await page.evaluate('axe.run(document, { resultTypes: ["violations"] })')) as {
        violations: Array<{ id: string; impact: string | null; nodes: Array<{ target: string[] }> }>;
      };
      return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    },
    async menu(name) {
      await page.locator('nav.menu summary').click();
      await page.locator('nav.menu').getByRole('link', { name }).click();
      await page.waitForLoadState();
    },
    async stop() {
      await browser.close();
      await t.stop();
    },
  };
}

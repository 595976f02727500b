/**
 * What the console tests share: a platform whose admin address range is loopback only (with
 * loopback as a trusted proxy, so a request can claim an outside address through X-Forwarded-For),
 * staff accounts with their TOTP secrets, signing a staff member in through the provider's staff
 * page in chromium, and an axe-core scan.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import type { ModuleFactory } from '../../core/index.ts';
import { createIdpModule, type IdpServices } from '../../idp/index.ts';
import { totp } from '../../idp/staff/staff_accounts.ts';
import { MODULES } from '../../modules.ts';
import { createPortalModule } from '../../portal/index.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { freePort } from '../support/ports.ts';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
/** An address outside ADMIN_IP_ALLOWLIST (TEST-NET-3). */
export const OUTSIDE = '203.0.113.9';

export interface ConsolePlatform {
  t: TestPlatform;
  url: string;
  idp: IdpServices;
  browser: Browser;
  stop(): Promise<void>;
}

/** The platform as `npm start` assembles it, plus `extra` modules (test doubles) just before the portal. */
export async function startConsolePlatform(
  options: {
    extra?: ModuleFactory[];
    /** Replaces the identity provider (e.g. with a test JPKI trust anchor). */
    idp?: ModuleFactory;
    now?: () => Date;
    env?: Record<string, string>;
  } = {},
): Promise<ConsolePlatform> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const t = await startTestPlatform({
    env: {
      PORT: String(port),
      PUBLIC_URL: url,
      ADMIN_IP_ALLOWLIST: '127.0.0.1/32,::1/128',
      TRUSTED_PROXIES: '127.0.0.1/32,::1/128',
      ...options.env,
    },
    modules: [
      ...MODULES.filter((m) => m !== createPortalModule).map((m) =>
        m === createIdpModule && options.idp ? options.idp : m,
      ),
      ...(options.extra ?? []),
      createPortalModule,
    ],
    ...(options.now ? { now: options.now } : {}),
  });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  return {
    t,
    url,
    idp: t.platform.services['idp'] as IdpServices,
    browser,
    async stop() {
      await browser.close();
      await t.stop();
    },
  };
}

function base32Decode(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const c of text) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

export interface TestStaff {
  staffId: string;
  username: string;
  password: string;
  secret: Buffer;
  /** The last TOTP step used: each step signs in once, so a later sign-in takes the next one. */
  lastStep?: number;
}

export async function createStaff(
  idp: IdpServices,
  username: string,
  privileged: boolean,
): Promise<TestStaff> {
  const password = `pass phrase for ${username}!`;
  const created = await idp.staff.create({ username, password, privileged }, 'test');
  return { staffId: created.staffId, username, password, secret: base32Decode(created.totpSecret) };
}

/**
 * Opens `path` under the console in a fresh browser context, signs in at the provider's staff page
 * (password + TOTP) and waits to land back on `path`.
 */
export async function signInStaff(
  c: ConsolePlatform,
  staff: TestStaff,
  path = '/admin',
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await c.browser.newContext({ locale: 'ja-JP', bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${c.url}${path}`);
  await page.waitForURL(/\/idp\/interaction\//);
  await page.fill('#username', staff.username);
  await page.fill('#password', staff.password);
  // A code works once and one step either side of now: take the next unused step, waiting if needed.
  let step = Math.floor(Date.now() / 30_000);
  if (staff.lastStep !== undefined && staff.lastStep >= step) step = staff.lastStep + 1;
  while (step > Math.floor(Date.now() / 30_000) + 1) await new Promise((r) => setTimeout(r, 1000));
  staff.lastStep = step;
  await page.fill('#code', totp(staff.secret, step));
  await page.click('#staff-login');
  await page.waitForSelector('#last-login');
  await page.click('#continue');
  await page.waitForURL(`${c.url}${path}`);
  return { context, page };
}

interface AxeResult {
  violations: Array<{ id: string; impact: string | null; nodes: Array<{ target: string[] }> }>;
}

/** Serious or critical axe-core violations on the page as it is now (id and first targets). */
export async function axe(page: Page): Promise<string[]> {
  await page.evaluate(AXE);
  const result = (await page.evaluate('axe.run(document, { resultTypes: ["violations"] })')) as AxeResult;
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** The console cookie header of a signed-in browser context, for requests made outside the browser. */
export async function consoleCookie(context: BrowserContext): Promise<string> {
  return (await context.cookies())
    .filter((c) => c.path === '/admin')
    .map((c) => `${c.name}=${c.value}`)
    .join('; ');
}

/**
 * Signs a resident in at the portal with a (test CA) My Number card, enrolling on first use, from
 * `path` under `/portal`, and waits to land back there. Answers the resident's common ID.
 */
export async function signInResident(
  c: ConsolePlatform,
  page: Page,
  card: {
    sign: { base64: string; sign(n: string): Promise<string> };
    auth: { base64: string; sign(n: string): Promise<string> };
  },
  path: string,
): Promise<string> {
  await page.goto(`${c.url}${path}`);
  await page.waitForURL(/\/idp\/interaction\//);
  const nonce = (await page.textContent('#nonce'))!.trim();
  await page.fill('#signCertificate', card.sign.base64);
  await page.fill('#signSignature', await card.sign.sign(nonce));
  await page.fill('#enrollAuthCertificate', card.auth.base64);
  await page.fill('#enrollAuthSignature', await card.auth.sign(nonce));
  await page.click('#enroll');
  await page.waitForLoadState();
  if (await page.$('#consent')) await page.click('#consent');
  await page.waitForURL(`${c.url}${path}`);
  const cookie = (await page.context().cookies()).find((k) => k.name === 'tsunagu_portal')!;
  return (JSON.parse(Buffer.from(cookie.value.split('.')[0]!, 'base64url').toString()) as { cid: string })
    .cid;
}

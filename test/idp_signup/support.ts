/**
 * Helpers for the sign-up tests: a platform whose identity provider mails into memory (the mailer
 * port's test double), a browser on a phone-sized page, the link inside a captured mail, and an
 * axe-core scan.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as oidc from 'openid-client';
import { type Browser, chromium, type Page } from 'playwright-core';
import { createCoreModule, type ModuleFactory } from '../../core/index.ts';
import {
  createIdpModuleWith,
  createMemoryMailer,
  type IdpOptions,
  type MemoryMailer,
} from '../../idp/index.ts';
import type { IdpServices } from '../../idp/index.ts';
import type { IdpTestPlatform } from '../idp/support.ts';
import { startTestPlatform, type TestPlatformOptions } from '../support/platform.ts';
import { freePort } from '../support/ports.ts';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** A phone-sized page in a fresh context; `bypassCSP` only so a test can inject axe-core. */
export async function phonePage(browser: Browser, options: { bypassCSP?: boolean } = {}): Promise<Page> {
  const context = await browser.newContext({
    locale: 'ja-JP',
    viewport: { width: 390, height: 844 },
    bypassCSP: options.bypassCSP ?? false,
  });
  return context.newPage();
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Serious or critical WCAG violations on the page as it is now. */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: AXE });
  const result = (await page.evaluate(
    'axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"], resultTypes: ["violations"] })',
  )) as { violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> };
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

export interface SignupPlatform extends IdpTestPlatform {
  mailer: MemoryMailer;
}

/** The platform with core, the identity provider (memory mailer) and any further modules. */
export async function startSignupPlatform(
  options: {
    idp?: IdpOptions;
    more?: ModuleFactory[];
    platform?: TestPlatformOptions;
  } = {},
): Promise<SignupPlatform> {
  const mailer = createMemoryMailer();
  const port = await freePort();
  // WebAuthn needs a domain as relying-party id (not an IP address): the issuer is on localhost.
  const t = await startTestPlatform({
    ...options.platform,
    env: { PORT: String(port), PUBLIC_URL: `http://localhost:${port}`, ...options.platform?.env },
    modules: [createCoreModule, createIdpModuleWith({ mailer, ...options.idp }), ...(options.more ?? [])],
  });
  const idp = t.platform.services['idp'] as IdpServices;
  return Object.assign(t, { idp, issuer: idp.issuer, mailer });
}

/** The verification or invitation link in the last mail to `to`. */
export function linkIn(mailer: MemoryMailer, to: string): string {
  const mail = mailer.sent.filter((m) => m.to === to).at(-1);
  const url = mail?.text.match(/https?:\/\/\S+\/idp\/signup\/verify\/[A-Za-z0-9_-]+/)?.[0];
  if (!url) throw new Error(`no link mailed to ${to}`);
  return url;
}

export async function authorizeUrl(
  rp: oidc.Configuration,
  redirectUri: string,
  params: Record<string, string> = {},
): Promise<{ url: URL; codeVerifier: string; state: string; nonce: string }> {
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: redirectUri,
    scope: 'openid',
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  });
  return { url, codeVerifier, state, nonce };
}

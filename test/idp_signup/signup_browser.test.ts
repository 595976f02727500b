/**
 * A resident without the My Number card, in a real browser driven by openid-client's authorization
 * URL: sign up from the login page, verify the e-mail through the mailed link, register with a
 * password (a breached one refused first) or a passkey (chromium's virtual authenticator through
 * CDP), sign in with each at the lowest assurance level, a revoked passkey refused, and password
 * sign-in throttled after repeated failures.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { addClient, relyingParty } from '../idp/support.ts';
import { freePort } from '../support/ports.ts';
import {
  authorizeUrl,
  axeViolations,
  launchBrowser,
  linkIn,
  phonePage,
  type SignupPlatform,
  startSignupPlatform,
} from './support.ts';

const SELF_ASSERTED = 'urn:tsunagu:acr:self-asserted';

describe('sign-up without the card, in a real browser', () => {
  let t: SignupPlatform;
  let browser: Browser;
  let callback: Server;
  let cbBase: string;
  let rp: oidc.Configuration;

  before(async () => {
    t = await startSignupPlatform({ idp: { loginThrottle: { maxFailures: 5, windowMs: 15 * 60_000 } } });
    const port = await freePort();
    cbBase = `http://127.0.0.1:${port}`;
    callback = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => callback.listen(port, '127.0.0.1', resolve));
    const client = await addClient(t, {
      grantTypes: ['authorization_code'],
      scopes: ['points:read'],
      redirectUris: [`${cbBase}/cb`],
    });
    rp = await relyingParty(t, client);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await new Promise((resolve) => callback?.close(resolve));
    await t?.stop();
  });

  const count = async (sql: string) => Number((await t.platform.db.query<{ n: string }>(sql)).rows[0]!.n);

  /** From the login page: sign-up link → e-mail → the mailed link's page. */
  const startSignup = async (page: Page, email: string) => {
    await page.click('#signup-link');
    await page.waitForSelector('#send');
    await page.fill('#email', email);
    await page.click('#send');
    await page.waitForSelector('#sent');
    await page.goto(linkIn(t.mailer, email.toLowerCase()));
    await page.waitForSelector('#signup-form');
  };

  const fillProfile = async (page: Page, name: string) => {
    await page.fill('#f-name', name);
    await page.fill('#f-birthdate', '1990-04-01');
    await page.fill('#f-postal_code', '５７３−００２７');
    await page.check('#cat-worker');
  };

  /** Consent (first time at this client), then the code at the callback → tokens. */
  const finish = async (page: Page, a: Awaited<ReturnType<typeof authorizeUrl>>) => {
    await page.waitForSelector('#consent');
    await page.click('#consent');
    await page.waitForURL(/\/cb\?/);
    return oidc.authorizationCodeGrant(rp, new URL(page.url()), {
      pkceCodeVerifier: a.codeVerifier,
      expectedState: a.state,
      expectedNonce: a.nonce,
      idTokenExpected: true,
    });
  };

  it('signs up with a verified e-mail and a password, then signs in with it', async () => {
    const page = await phonePage(browser, { bypassCSP: true });
    const a = await authorizeUrl(rp, `${cbBase}/cb`);
    await page.goto(a.url.href);
    await page.waitForSelector('#password-login');
    assert.deepEqual(await axeViolations(page), [], 'login page with the e-mail section');

    await page.click('#signup-link');
    await page.waitForSelector('#send');
    assert.deepEqual(await axeViolations(page), [], 'sign-up page');
    await page.goBack();
    await startSignup(page, 'Hanako@Example.jp');
    assert.equal(t.mailer.sent.length, 1);
    assert.match(t.mailer.sent[0]!.subject, /メールアドレスの確認/);
    assert.deepEqual(await axeViolations(page), [], 'registration page');

    // A password seen in breaches is refused, and nothing is created.
    await fillProfile(page, '枚方 花子');
    await page.fill('#password', 'password123');
    await page.click('#register-password');
    await page.waitForSelector('#error');
    assert.equal(await page.getAttribute('#error', 'data-code'), 'BREACHED');
    assert.equal(await count('SELECT count(*) AS n FROM idp.email_logins'), 0);
    assert.equal(await page.inputValue('#f-name'), '枚方 花子', 'the form keeps what was typed');

    await page.check('#cat-worker');
    await page.fill('#password', 'Kawa-no-nagare-2026');
    await page.click('#register-password');
    await page.waitForSelector('#done');
    assert.equal(await count('SELECT count(*) AS n FROM idp.email_logins'), 1);
    // The address is sealed at rest.
    const raw = await t.platform.db.query<{ row: string }>('SELECT e::text AS row FROM idp.email_logins e');
    assert.doesNotMatch(raw.rows[0]!.row, /hanako|example|花子/i);

    const continueUrl = new URL((await page.getAttribute('#continue', 'href'))!, page.url()).href;
    // The link works once.
    await page.goto(linkIn(t.mailer, 'hanako@example.jp'));
    assert.match((await page.textContent('h1')) ?? '', /リンクが無効です/);

    await page.goto(continueUrl);
    await page.waitForSelector('#password-login');
    await page.fill('#email', 'hanako@example.jp');
    await page.fill('#password', 'Kawa-no-nagare-2026');
    await page.click('#password-login');
    const tokens = await finish(page, a);
    const claims = tokens.claims()!;
    assert.equal(claims.acr, SELF_ASSERTED);
    const commonId = await t.idp.accounts.commonIdForSubject(String(claims.aud), claims.sub);
    const login = await t.idp.residents.find(commonId!);
    assert.equal(login?.email, 'hanako@example.jp');
    assert.equal(login?.category, 'worker');
    assert.deepEqual(login?.profile, { name: '枚方 花子', birthdate: '1990-04-01', postal_code: '573-0027' });
    assert.equal(await t.idp.assurance.levelOf(commonId!), SELF_ASSERTED);
    await page.context().close();
  });

  it('an address already registered gets a "registered" mail, never a second account', async () => {
    const page = await phonePage(browser);
    await page.goto(`${t.url.replace('127.0.0.1', 'localhost')}/idp/signup`);
    await page.fill('#email', 'hanako@example.jp');
    await page.click('#send');
    await page.waitForSelector('#sent');
    const mail = t.mailer.sent.at(-1)!;
    assert.match(mail.subject, /登録済み/);
    assert.doesNotMatch(mail.text, /signup\/verify/);
    assert.equal(await count('SELECT count(*) AS n FROM idp.email_logins'), 1);
    await page.context().close();
  });

  it('registers a passkey (virtual authenticator), signs in with it, and a revoked one is refused', async () => {
    const page = await phonePage(browser);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    const a = await authorizeUrl(rp, `${cbBase}/cb`);
    await page.goto(a.url.href);
    await page.waitForSelector('#passkey-login');
    await startSignup(page, 'jiro@example.jp');
    await fillProfile(page, '西条 次郎');
    await page.click('#register-passkey');
    await page.waitForSelector('#done');
    const passkeyOwner = (
      await t.platform.db.query<{ common_id: string }>('SELECT common_id FROM idp.passkeys')
    ).rows[0]!.common_id;
    assert.equal((await t.idp.residents.find(passkeyOwner))?.email, 'jiro@example.jp');

    await page.click('#continue');
    await page.waitForSelector('#passkey-login');
    await page.click('#passkey-login');
    const tokens = await finish(page, a);
    const claims = tokens.claims()!;
    assert.equal(claims.acr, SELF_ASSERTED);
    assert.equal(await t.idp.accounts.commonIdForSubject(String(claims.aud), claims.sub), passkeyOwner);

    // Lost phone: the passkey is revoked and refused at the next sign-in.
    const [key] = await t.idp.passkeys.list(passkeyOwner);
    const sessions = () =>
      count(`SELECT count(*) AS n FROM idp.oidc_payloads WHERE payload ->> 'accountId' = '${passkeyOwner}'`);
    assert.ok((await sessions()) > 0);
    assert.equal(await t.idp.passkeys.revoke(passkeyOwner, key!.id, 'staff:st_test'), true);
    assert.equal(await sessions(), 0, "the lost device's session and tokens end too");
    assert.equal(await t.idp.passkeys.revoke(passkeyOwner, key!.id, 'staff:st_test'), false);
    const again = await authorizeUrl(rp, `${cbBase}/cb`, { prompt: 'login' });
    await page.goto(again.url.href);
    await page.waitForSelector('#passkey-login');
    await page.click('#passkey-login');
    await page.waitForSelector('#passkey-status:not(:empty)');
    assert.match((await page.textContent('#passkey-status')) ?? '', /パスキーを確認できませんでした/);
    assert.match(page.url(), /\/idp\/interaction\//);
    const audit = await t.platform.db.query<{ action: string; details: { result?: string } }>(
      `SELECT action, details FROM core.audit_log WHERE action IN ('idp.passkey.revoke', 'idp.passkey.login') ORDER BY seq`,
    );
    assert.deepEqual(
      audit.rows.map((r) => `${r.action}:${r.details.result ?? ''}`),
      ['idp.passkey.login:ok', 'idp.passkey.revoke:', 'idp.passkey.login:revoked'],
    );
    await page.context().close();
  });

  it('throttles password sign-in after repeated failures, even with the right password', async () => {
    // Start from a clean count (the revoked passkey above counted one failure for this address).
    await t.platform.db.query('DELETE FROM idp.login_failures');
    const page = await phonePage(browser);
    const a = await authorizeUrl(rp, `${cbBase}/cb`);
    await page.goto(a.url.href);
    for (let i = 0; i < 5; i += 1) {
      await page.fill('#email', 'hanako@example.jp');
      await page.fill('#password', `wrong-password-${i}`);
      await page.click('#password-login');
      await page.waitForSelector('#error');
      assert.equal(await page.getAttribute('#error', 'data-code'), 'PASSWORD');
    }
    await page.fill('#email', 'hanako@example.jp');
    await page.fill('#password', 'Kawa-no-nagare-2026');
    const [response] = await Promise.all([
      page.waitForResponse(/\/password$/),
      page.click('#password-login'),
    ]);
    assert.equal(response.status(), 429);
    assert.equal(await page.getAttribute('#error', 'data-code'), 'THROTTLED');
    assert.match(page.url(), /\/idp\/interaction\//);
    const audit = await count(
      `SELECT count(*) AS n FROM core.audit_log WHERE action = 'idp.login.throttled'`,
    );
    assert.equal(audit, 1);
    await page.context().close();
  });
});

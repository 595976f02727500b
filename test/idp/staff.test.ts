/**
 * Staff accounts: password + TOTP through our staff sign-in page in a real browser for an admin
 * console client, and the policies (address ranges, lockout, one-time codes, 180-day expiry) at
 * the service.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { type Browser, chromium } from 'playwright-core';
import { totp } from '../../idp/staff/staff_accounts.ts';
import { addClient, type IdpTestPlatform, relyingParty, startIdpPlatform } from './support.ts';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const PASSWORD = 'correct horse battery staple';

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

describe('staff sign-in', () => {
  let t: IdpTestPlatform;
  let browser: Browser;
  let clock = new Date();
  let secret: Buffer;
  const codeAt = (offsetSteps = 0) => totp(secret, Math.floor(clock.getTime() / 30_000) + offsetSteps);

  before(async () => {
    t = await startIdpPlatform({ now: () => clock, env: { ADMIN_IP_ALLOWLIST: '127.0.0.1/32,::1/128' } });
    const created = await t.idp.staff.create(
      { username: 'sato', password: PASSWORD, privileged: true },
      'test',
    );
    assert.match(
      created.otpauthUri,
      /^otpauth:\/\/totp\/Tsunagu%3Asato\?secret=[A-Z2-7]{32}&issuer=Tsunagu$/,
    );
    secret = base32Decode(created.totpSecret);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('signs a staff member in to the admin console with password + TOTP and shows the previous sign-in', async () => {
    const console_ = await addClient(t, {
      name: '管理コンソール',
      grantTypes: ['authorization_code'],
      scopes: ['idp:clients'],
      redirectUris: ['http://127.0.0.1:9/console/cb'],
      staffConsole: true,
    });
    const rp = await relyingParty(t, console_);
    const page = await (await browser.newContext({ locale: 'ja-JP' })).newPage();
    for (const round of [1, 2]) {
      const verifier = oidc.randomPKCECodeVerifier();
      const url = oidc.buildAuthorizationUrl(rp, {
        redirect_uri: 'http://127.0.0.1:9/console/cb',
        scope: 'openid profile',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        prompt: 'login',
      });
      await page.goto(url.href);
      assert.match((await page.textContent('h1')) ?? '', /職員ログイン/);
      await page.fill('#username', 'sato');
      await page.fill('#password', PASSWORD);
      await page.fill('#code', codeAt(round - 1));
      await page.click('#staff-login');
      await page.waitForSelector('#last-login');
      const text = (await page.textContent('#last-login')) ?? '';
      if (round === 1) assert.match(text, /今回が初めてのログインです/);
      else assert.match(text, /前回のログイン：.+127\.0\.0\.1 から/);
      const callback = page.waitForRequest((r) => r.url().startsWith('http://127.0.0.1:9/console/cb'));
      await page.click('#continue').catch(() => {});
      const landed = new URL((await callback).url());
      const tokens = await oidc.authorizationCodeGrant(rp, landed, {
        pkceCodeVerifier: verifier,
        idTokenExpected: true,
      });
      const claims = tokens.claims()!;
      assert.match(claims.sub, /^st_/);
      assert.equal(claims['acr'], 'urn:tsunagu:acr:staff-mfa');
      assert.equal(tokens.refresh_token, undefined);
      const info = await oidc.fetchUserInfo(rp, tokens.access_token, claims.sub);
      assert.equal(info.preferred_username, 'sato');
      clock = new Date(clock.getTime() + 60_000);
    }
  });

  it('refuses a reused code, a wrong password, other addresses, and locks after 5 failures', async () => {
    const code = codeAt();
    const ok = await t.idp.staff.authenticate({
      username: 'sato',
      password: PASSWORD,
      code,
      ip: '127.0.0.1',
    });
    assert.equal(ok.ok, true);
    assert.deepEqual(
      await t.idp.staff.authenticate({ username: 'sato', password: PASSWORD, code, ip: '127.0.0.1' }),
      {
        ok: false,
        code: 'INVALID',
      },
    );
    clock = new Date(clock.getTime() + 60_000);
    assert.deepEqual(
      await t.idp.staff.authenticate({
        username: 'sato',
        password: PASSWORD,
        code: codeAt(),
        ip: '192.0.2.7',
      }),
      {
        ok: false,
        code: 'IP_NOT_ALLOWED',
      },
    );
    // The reused code was failure 1 (an address outside the ranges is refused before counting).
    for (let i = 0; i < 3; i += 1) {
      const r = await t.idp.staff.authenticate({
        username: 'sato',
        password: 'wrong password!',
        code: codeAt(),
        ip: '127.0.0.1',
      });
      assert.deepEqual(r, { ok: false, code: 'INVALID' });
    }
    assert.deepEqual(
      await t.idp.staff.authenticate({
        username: 'sato',
        password: 'wrong password!',
        code: codeAt(),
        ip: '127.0.0.1',
      }),
      {
        ok: false,
        code: 'LOCKED',
      },
    );
    assert.deepEqual(
      await t.idp.staff.authenticate({
        username: 'sato',
        password: PASSWORD,
        code: codeAt(),
        ip: '127.0.0.1',
      }),
      {
        ok: false,
        code: 'LOCKED',
      },
    );
    clock = new Date(clock.getTime() + 16 * 60_000);
    assert.equal(
      (
        await t.idp.staff.authenticate({
          username: 'sato',
          password: PASSWORD,
          code: codeAt(),
          ip: '127.0.0.1',
        })
      ).ok,
      true,
    );
  });

  it('expires a privileged password after 180 days until it is changed', async () => {
    clock = new Date(clock.getTime() + 181 * 86_400_000);
    assert.deepEqual(
      await t.idp.staff.authenticate({
        username: 'sato',
        password: PASSWORD,
        code: codeAt(),
        ip: '127.0.0.1',
      }),
      {
        ok: false,
        code: 'PASSWORD_EXPIRED',
      },
    );
    clock = new Date(clock.getTime() + 60_000);
    const changed = await t.idp.staff.changePassword({
      username: 'sato',
      password: PASSWORD,
      newPassword: 'a brand new long passphrase',
      code: codeAt(),
      ip: '127.0.0.1',
    });
    assert.equal(changed.ok, true);
    clock = new Date(clock.getTime() + 60_000);
    assert.equal(
      (
        await t.idp.staff.authenticate({
          username: 'sato',
          password: 'a brand new long passphrase',
          code: codeAt(),
          ip: '127.0.0.1',
        })
      ).ok,
      true,
    );
    const { rows } = await t.platform.db.query<{ action: string; n: string }>(
      `SELECT action, count(*) AS n FROM core.audit_log WHERE action LIKE 'idp.staff.%' GROUP BY action ORDER BY action`,
    );
    assert.deepEqual(
      rows.map((r) => r.action),
      ['idp.staff.create', 'idp.staff.login', 'idp.staff.login-failed', 'idp.staff.password-change'],
    );
  });
});

/**
 * A resident signs in through our pages in a real browser (chromium), driven by openid-client's
 * authorization URL: enrollment with the My Number card, per-claim consent, code + PKCE, ID token,
 * userinfo, refresh, logout, and the negative cases around them.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { type Browser, chromium, type Page } from 'playwright-core';
import { createCoreModule } from '../../core/index.ts';
import { createIdpModuleWith } from '../../idp/index.ts';
import { type Card, createCrl, createTestCa, issueCard, TARO } from './jpki_fixtures.ts';
import { addClient, freePort, type IdpTestPlatform, relyingParty, startIdpPlatform } from './support.ts';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function oauthError(error: unknown): string {
  const e = error as { error?: string; cause?: Array<{ parameters?: { error?: string } }> };
  return e.error ?? e.cause?.[0]?.parameters?.error ?? String(error);
}

describe('resident login in a real browser', () => {
  let t: IdpTestPlatform;
  let browser: Browser;
  let page: Page;
  let callback: Server;
  let cbBase: string;
  let rp: oidc.Configuration;
  let client: { clientId: string; clientSecret: string };
  let sign: Card;
  let auth: Card;

  before(async () => {
    const ca = await createTestCa();
    sign = await issueCard(ca, { kind: 'sign' });
    auth = await issueCard(ca, { kind: 'auth' });
    t = await startIdpPlatform({
      modules: [
        createCoreModule,
        createIdpModuleWith({ jpki: { trustAnchors: ca.pem, test: true, crls: [await createCrl(ca, [])] } }),
      ],
    });
    const port = await freePort();
    cbBase = `http://127.0.0.1:${port}`;
    callback = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => callback.listen(port, '127.0.0.1', resolve));
    client = await addClient(t, {
      grantTypes: ['authorization_code', 'refresh_token'],
      scopes: ['points:read'],
      redirectUris: [`${cbBase}/cb`],
      postLogoutRedirectUris: [`${cbBase}/bye`],
      verifiedClaims: true,
    });
    rp = await relyingParty(t, client);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    page = await (
      await browser.newContext({ locale: 'ja-JP', viewport: { width: 390, height: 844 } })
    ).newPage();
  });
  after(async () => {
    await browser?.close();
    await new Promise((resolve) => callback?.close(resolve));
    await t?.stop();
  });

  const authorize = async (params: Record<string, string>) => {
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(rp, {
      redirect_uri: `${cbBase}/cb`,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...params,
    });
    return { url, codeVerifier, state, nonce };
  };

  // Every visible form field has a label (checked in the page, where `labels` is computed).
  const everyFieldLabelled = () =>
    page.$$eval('textarea, input:not([type=hidden])', (els) =>
      els.every((el) => ((el as unknown as { labels?: { length: number } }).labels?.length ?? 0) > 0),
    );

  let idToken = '';
  let commonId = '';

  it('enrolls with the card, consents per claim and completes code + PKCE', async () => {
    // The verified ID travels in the ID token too (claims parameter), for platforms that federate with us.
    const a = await authorize({
      scope: 'openid profile verified_claims offline_access',
      prompt: 'consent',
      claims: JSON.stringify({ id_token: { verified_claims: null } }),
    });
    await page.goto(a.url.href);
    assert.match(page.url(), /\/idp\/interaction\/[A-Za-z0-9_-]+$/);
    assert.equal(await page.getAttribute('html', 'lang'), 'ja');
    assert.match((await page.textContent('h1')) ?? '', /マイナンバーカードでログイン/);
    assert.equal(await everyFieldLabelled(), true);

    const nonce = (await page.textContent('#nonce'))!.trim();
    await page.fill('#signCertificate', sign.base64);
    await page.fill('#signSignature', await sign.sign(nonce));
    await page.fill('#enrollAuthCertificate', auth.base64);
    await page.fill('#enrollAuthSignature', await auth.sign(nonce));
    await page.click('#enroll');

    await page.waitForSelector('#consent');
    assert.match((await page.textContent('h1')) ?? '', /情報提供への同意/);
    assert.equal(await everyFieldLabelled(), true);
    assert.deepEqual(
      await page.$$eval('input[name=claims]', (els) =>
        els.map((e) => (e as unknown as { value: string }).value),
      ),
      ['name', 'birthdate', 'gender', 'address', 'verified_claims'],
    );
    await page.uncheck('#claim-address');
    await page.click('#consent');
    await page.waitForURL(/\/cb\?/);

    const tokens = await oidc.authorizationCodeGrant(rp, new URL(page.url()), {
      pkceCodeVerifier: a.codeVerifier,
      expectedState: a.state,
      expectedNonce: a.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims()!;
    assert.equal(claims.iss, t.issuer);
    assert.equal(claims.aud, client.clientId);
    assert.equal(claims['acr'], 'urn:tsunagu:acr:jpki-sign');
    commonId = (await t.idp.accounts.commonIdForSubject(client.clientId, claims.sub))!;
    assert.match(commonId, /^[a-z2-7]{26}$/);
    assert.notEqual(claims.sub, commonId);
    idToken = tokens.id_token!;
    const inIdToken = claims['verified_claims'] as {
      verification: { trust_framework: string };
      claims: { name: string };
    };
    assert.equal(inIdToken.verification.trust_framework, 'test');
    assert.equal(inIdToken.claims.name, TARO.name);

    const info = await oidc.fetchUserInfo(rp, tokens.access_token, claims.sub);
    assert.equal(info.name, TARO.name);
    assert.equal(info.birthdate, '1990-01-02');
    assert.equal(info.gender, 'male');
    assert.equal(info.address, undefined);
    const verified = info['verified_claims'] as {
      verification: { trust_framework: string; evidence: Array<Record<string, string>> };
    };
    assert.equal(verified.verification.trust_framework, 'test');
    assert.equal(verified.verification.evidence[0]!['type'], 'electronic_signature');
    assert.equal(verified.verification.evidence[0]!['serial_number'], sign.serial);

    const refreshed = await oidc.refreshTokenGrant(rp, tokens.refresh_token!);
    assert.notEqual(refreshed.access_token, tokens.access_token);
    assert.equal(refreshed.claims()?.sub, claims.sub);
    assert.equal((await oidc.tokenIntrospection(rp, refreshed.access_token)).active, true);

    // A replayed code fails and revokes what the grant issued.
    await assert.rejects(
      oidc.authorizationCodeGrant(rp, new URL(page.url()), {
        pkceCodeVerifier: a.codeVerifier,
        expectedState: a.state,
        expectedNonce: a.nonce,
      }),
      (e) => oauthError(e) === 'invalid_grant',
    );
    assert.equal((await oidc.tokenIntrospection(rp, refreshed.access_token)).active, false);
  });

  /** Follows the flow to the callback, agreeing on the consent page when it is shown. */
  const toCallback = async () => {
    await page.waitForURL(/\/cb\?|\/interaction\//);
    if (await page.$('#consent')) {
      await page.click('#consent');
      await page.waitForURL(/\/cb\?/);
    }
  };

  it('rejects a wrong PKCE verifier and a missing code challenge', async () => {
    const a = await authorize({ scope: 'openid profile' });
    await page.goto(a.url.href);
    // The replayed code above revoked the grant, so consent is asked again.
    await toCallback();
    await assert.rejects(
      oidc.authorizationCodeGrant(rp, new URL(page.url()), {
        pkceCodeVerifier: oidc.randomPKCECodeVerifier(),
        expectedState: a.state,
        expectedNonce: a.nonce,
      }),
      (e) => oauthError(e) === 'invalid_grant',
    );
    const noPkce = new URL(a.url);
    noPkce.searchParams.delete('code_challenge');
    noPkce.searchParams.delete('code_challenge_method');
    await page.goto(noPkce.href);
    await page.waitForURL(/\/cb\?/);
    const answer = new URL(page.url());
    assert.equal(answer.searchParams.get('error'), 'invalid_request');
    assert.equal(answer.searchParams.get('code'), null);
  });

  it('shows an error page and does not redirect for an unregistered redirect URI', async () => {
    const a = await authorize({ redirect_uri: `${cbBase}/evil` });
    const res = await page.goto(a.url.href);
    assert.equal(res?.status(), 400);
    assert.match(page.url(), /\/oidc\/auth\?/);
    assert.match((await page.textContent('body')) ?? '', /invalid_redirect_uri/);
  });

  it('RP-initiated logout ends the session; the next login uses the authentication certificate', async () => {
    const end = oidc.buildEndSessionUrl(rp, {
      id_token_hint: idToken,
      post_logout_redirect_uri: `${cbBase}/bye`,
      state: 'bye-1',
    });
    await page.goto(end.href);
    assert.match((await page.textContent('h1')) ?? '', /ログアウトしますか/);
    await page.click('button[value=yes]');
    await page.waitForURL(/\/bye\?/);
    assert.equal(new URL(page.url()).searchParams.get('state'), 'bye-1');

    const silent = await authorize({ prompt: 'none' });
    await page.goto(silent.url.href);
    await page.waitForURL(/\/cb\?/);
    assert.equal(new URL(page.url()).searchParams.get('error'), 'login_required');

    const a = await authorize({ scope: 'openid profile' });
    await page.goto(a.url.href);
    const nonce = (await page.textContent('#nonce'))!.trim();
    // A wrong signature re-renders the page with an error and a fresh nonce.
    await page.fill('#authCertificate', auth.base64);
    await page.fill('#authSignature', await auth.sign('not-the-nonce'));
    await page.click('#login');
    await page.waitForSelector('#error');
    assert.equal(await page.getAttribute('#error', 'data-code'), 'SIGNATURE');
    const fresh = (await page.textContent('#nonce'))!.trim();
    assert.notEqual(fresh, nonce);

    await page.fill('#authCertificate', auth.base64);
    await page.fill('#authSignature', await auth.sign(fresh));
    await page.click('#login');
    await toCallback();
    const tokens = await oidc.authorizationCodeGrant(rp, new URL(page.url()), {
      pkceCodeVerifier: a.codeVerifier,
      expectedState: a.state,
      expectedNonce: a.nonce,
    });
    assert.equal(tokens.claims()?.['acr'], 'urn:tsunagu:acr:jpki-auth');
    assert.equal(await t.idp.accounts.commonIdForSubject(client.clientId, tokens.claims()!.sub), commonId);
  });

  it('a resident’s token for the platform API (resource indicator) passes the platform token verifier', async () => {
    const a = await authorize({ scope: 'openid points:read', resource: t.idp.apiResource });
    await page.goto(a.url.href);
    await page.waitForSelector('#consent');
    assert.match((await page.textContent('body')) ?? '', /points:read/);
    await toCallback();
    const tokens = await oidc.authorizationCodeGrant(
      rp,
      new URL(page.url()),
      { pkceCodeVerifier: a.codeVerifier, expectedState: a.state, expectedNonce: a.nonce },
      { resource: t.idp.apiResource },
    );
    assert.equal(tokens.scope, 'points:read');
    const verifier = t.platform.modules.find((m) => m.name === 'idp')!.tokenVerifier!;
    assert.deepEqual(await verifier.verify(tokens.access_token), {
      subject: commonId,
      clientId: client.clientId,
      scopes: ['points:read'],
    });
    // The userinfo token of an ordinary login is not accepted by platform APIs.
    const plain = await authorize({ scope: 'openid' });
    await page.goto(plain.url.href);
    await toCallback();
    const userinfoOnly = await oidc.authorizationCodeGrant(rp, new URL(page.url()), {
      pkceCodeVerifier: plain.codeVerifier,
      expectedState: plain.state,
      expectedNonce: plain.nonce,
    });
    assert.equal(await verifier.verify(userinfoOnly.access_token), null);
  });

  it('a service requiring signature-level assurance sends a card-auth session back to sign with the signing certificate', async () => {
    const strict = await addClient(t, {
      grantTypes: ['authorization_code'],
      scopes: [],
      redirectUris: [`${cbBase}/cb`],
      minimumAcr: 'urn:tsunagu:acr:jpki-sign',
    });
    const strictRp = await relyingParty(t, strict);
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(strictRp, {
      redirect_uri: `${cbBase}/cb`,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    });
    // The session from the previous test is at jpki-auth: the login page is shown again.
    await page.goto(url.href);
    await page.waitForSelector('#nonce');
    let nonce = (await page.textContent('#nonce'))!.trim();
    await page.fill('#authCertificate', auth.base64);
    await page.fill('#authSignature', await auth.sign(nonce));
    await page.click('#login');
    await page.waitForSelector('#error');
    assert.equal(await page.getAttribute('#error', 'data-code'), 'ACR_TOO_LOW');

    nonce = (await page.textContent('#nonce'))!.trim();
    await page.fill('#signCertificate', sign.base64);
    await page.fill('#signSignature', await sign.sign(nonce));
    await page.click('#enroll');
    await toCallback();
    const tokens = await oidc.authorizationCodeGrant(strictRp, new URL(page.url()), {
      pkceCodeVerifier: codeVerifier,
    });
    assert.equal(tokens.claims()?.['acr'], 'urn:tsunagu:acr:jpki-sign');
    assert.equal(await t.idp.accounts.commonIdForSubject(strict.clientId, tokens.claims()!.sub), commonId);
  });
});

/**
 * Upstream federation in both directions between two Tsunagu instances, in a real browser:
 *   U (127.0.0.1, a "prefecture platform") and D (localhost, a "town"), different hosts so their
 *   cookies stay apart.
 *   1. D signs residents in with U: a resident enrolled at U with the My Number card gets a common
 *      ID at D, with U's verified attributes, acr `federated`; signing in again keeps the same ID.
 *   2. U signs residents in with D: a resident verified at D gets an ID at U.
 */
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
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
const HANAKO = { name: '佐藤　花子', gender: '2', birth: '519900505', address: '鳥取県鳥取市東町１－２２０' };

describe('federation between two providers', () => {
  let u: IdpTestPlatform;
  let d: IdpTestPlatform;
  let browser: Browser;
  let callback: Server;
  let cbBase: string;
  let taro: { sign: Card; auth: Card };
  let hanako: { sign: Card; auth: Card };

  before(async () => {
    const ca = await createTestCa();
    const crl = await createCrl(ca, []);
    taro = { sign: await issueCard(ca, { kind: 'sign' }), auth: await issueCard(ca, { kind: 'auth' }) };
    hanako = {
      sign: await issueCard(ca, { kind: 'sign', person: HANAKO }),
      auth: await issueCard(ca, { kind: 'auth' }),
    };
    const modules = [
      createCoreModule,
      createIdpModuleWith({ jpki: { trustAnchors: ca.pem, test: true, crls: [crl] } }),
    ];
    const dPort = await freePort();
    u = await startIdpPlatform({ modules });
    d = await startIdpPlatform({
      modules,
      env: { PORT: String(dPort), PUBLIC_URL: `http://localhost:${dPort}` },
    });

    const dAtU = await addClient(u, {
      name: '町のつなぐ',
      grantTypes: ['authorization_code'],
      scopes: [],
      redirectUris: [`${d.platform.config.publicUrl}/idp/federation/callback`],
      verifiedClaims: true,
    } as Parameters<typeof addClient>[1]);
    d.idp.federation.add({
      id: 'pref',
      label: { ja: '県の共通ID', en: 'the prefecture ID' },
      issuer: u.issuer,
      ...dAtU,
      allowHttp: true,
    });
    // U authenticates to D with private_key_jwt (ES256), as the Digital Agency's app requires.
    const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ])) as webcrypto.CryptoKeyPair;
    const publicJwk = {
      ...(await webcrypto.subtle.exportKey('jwk', keys.publicKey)),
      alg: 'ES256',
      kid: 'u-1',
      use: 'sig',
    };
    const uAtD = await addClient(d, {
      grantTypes: ['authorization_code'],
      scopes: [],
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [publicJwk] },
      redirectUris: [`${u.platform.config.publicUrl}/idp/federation/callback`],
      verifiedClaims: true,
    });
    assert.equal(uAtD.clientSecret, '');
    u.idp.federation.add({
      id: 'town',
      label: { ja: '町のID', en: 'the town ID' },
      issuer: d.issuer,
      clientId: uAtD.clientId,
      privateKey: { key: keys.privateKey as unknown as oidc.CryptoKey, kid: 'u-1' },
      // U's operator accepts D's signature-level verification as card-auth level here.
      acrMap: { 'urn:tsunagu:acr:jpki-sign': 'urn:tsunagu:acr:jpki-auth' },
      allowHttp: true,
    });

    const port = await freePort();
    cbBase = `http://127.0.0.1:${port}`;
    callback = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => callback.listen(port, '127.0.0.1', resolve));
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
    await new Promise((resolve) => callback?.close(resolve));
    await d?.stop();
    await u?.stop();
  });

  async function appAt(t: IdpTestPlatform) {
    const client = await addClient(t, {
      grantTypes: ['authorization_code'],
      scopes: [],
      redirectUris: [`${cbBase}/cb`],
      verifiedClaims: true,
    });
    return { client, rp: await relyingParty(t, client) };
  }

  async function authorize(rp: oidc.Configuration, page: Page, extra: Record<string, string> = {}) {
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(rp, {
      redirect_uri: `${cbBase}/cb`,
      scope: 'openid profile verified_claims',
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      ...extra,
    });
    await page.goto(url.href);
    return { codeVerifier, state };
  }

  async function enroll(page: Page, card: { sign: Card; auth: Card }) {
    await page.waitForSelector('#nonce');
    const nonce = (await page.textContent('#nonce'))!.trim();
    await page.fill('#signCertificate', card.sign.base64);
    await page.fill('#signSignature', await card.sign.sign(nonce));
    await page.fill('#enrollAuthCertificate', card.auth.base64);
    await page.fill('#enrollAuthSignature', await card.auth.sign(nonce));
    await page.click('#enroll');
  }

  /** Agrees on every consent page until the browser reaches the relying party's callback. */
  async function consentUntilCallback(page: Page) {
    for (;;) {
      await page.waitForURL(/\/cb\?|\/interaction\/[^/]+$/);
      if (page.url().startsWith(`${cbBase}/cb`)) return new URL(page.url());
      const before = page.url();
      await page.click('#consent');
      await page.waitForURL((url) => url.href !== before);
    }
  }

  let context: BrowserContext;

  it('D signs a resident in with U: a new common ID at D carrying U’s verified attributes', async () => {
    context = await browser.newContext({ locale: 'ja-JP' });
    const page = await context.newPage();
    const { client, rp } = await appAt(d);
    const a = await authorize(rp, page);
    assert.match(page.url(), new RegExp(`^${d.platform.config.publicUrl}/idp/interaction/`));
    assert.match((await page.textContent('#upstream-pref')) ?? '', /県の共通IDでログイン/);
    await page.click('#upstream-pref');

    await page.waitForURL(new RegExp(`^${u.platform.config.publicUrl}/idp/interaction/`));
    await enroll(page, taro);
    const back = await consentUntilCallback(page);

    const tokens = await oidc.authorizationCodeGrant(rp, back, {
      pkceCodeVerifier: a.codeVerifier,
      expectedState: a.state,
    });
    const claims = tokens.claims()!;
    assert.equal(claims['acr'], 'urn:tsunagu:acr:federated');
    const info = await oidc.fetchUserInfo(rp, tokens.access_token, claims.sub);
    assert.equal(info.name, TARO.name);
    assert.equal(info.birthdate, '1990-01-02');
    assert.equal(
      (info['verified_claims'] as { verification: { trust_framework: string } }).verification.trust_framework,
      'federated:pref',
    );

    const atD = (await d.idp.accounts.commonIdForSubject(client.clientId, claims.sub))!;
    const { rows } = await d.platform.db.query<{ kind: string; issuer: string }>(
      'SELECT kind, issuer FROM idp.evidence WHERE common_id = $1',
      [atD],
    );
    assert.deepEqual(rows, [{ kind: 'federated', issuer: u.issuer }]);
    const atU = await u.platform.db.query<{ n: string }>('SELECT count(*) AS n FROM idp.accounts');
    assert.equal(atU.rows[0]!.n, '1');

    // Signing in again through U (whose session is still open) keeps the same common ID at D.
    const again = await authorize(rp, page, { prompt: 'login' });
    await page.click('#upstream-pref');
    const back2 = await consentUntilCallback(page);
    const tokens2 = await oidc.authorizationCodeGrant(rp, back2, {
      pkceCodeVerifier: again.codeVerifier,
      expectedState: again.state,
    });
    assert.equal(await d.idp.accounts.commonIdForSubject(client.clientId, tokens2.claims()!.sub), atD);
    const count = await d.platform.db.query<{ n: string }>('SELECT count(*) AS n FROM idp.accounts');
    assert.equal(count.rows[0]!.n, '1');
  });

  it('U signs a resident in with D (client authentication private_key_jwt, ES256): an ID verified at D is used at U', async () => {
    const fresh = await browser.newContext({ locale: 'ja-JP' });
    const page = await fresh.newPage();
    const { rp } = await appAt(u);
    const a = await authorize(rp, page);
    await page.click('#upstream-town');
    await page.waitForURL(new RegExp(`^${d.platform.config.publicUrl}/idp/interaction/`));
    await enroll(page, hanako);
    const back = await consentUntilCallback(page);
    const tokens = await oidc.authorizationCodeGrant(rp, back, {
      pkceCodeVerifier: a.codeVerifier,
      expectedState: a.state,
    });
    assert.equal(tokens.claims()?.['acr'], 'urn:tsunagu:acr:jpki-auth');
    const info = await oidc.fetchUserInfo(rp, tokens.access_token, tokens.claims()!.sub);
    assert.equal(info.name, HANAKO.name);
    assert.equal(info.birthdate, '1990-05-05');
    assert.equal(info.gender, 'female');
    await fresh.close();
  });

  it('refuses an unknown federation state', async () => {
    const res = await fetch(`${d.platform.config.publicUrl}/idp/federation/callback?code=x&state=unknown`);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /ログイン手続きが見つかりません/);
  });
});

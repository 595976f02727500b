import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { createCoreModule } from '../../core/index.ts';
import { createIdpModuleWith } from '../../idp/index.ts';
import { type Card, createCrl, createTestCa, issueCard } from './jpki_fixtures.ts';
import { addClient, type IdpTestPlatform, relyingParty, startIdpPlatform } from './support.ts';

/** A browser stand-in for form posts: follows nothing, keeps cookies. */
class Session {
  readonly cookies = new Map<string, string>();
  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}) {
    const res = await fetch(url, {
      method: init.method ?? 'GET',
      redirect: 'manual',
      headers: {
        cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const [name, ...value] = pair!.split('=');
      this.cookies.set(name!, value.join('='));
    }
    return { status: res.status, location: res.headers.get('location'), text: await res.text() };
  }
}

describe('resident login throttling', () => {
  let t: IdpTestPlatform;
  let rp: oidc.Configuration;
  let auth: Card;
  let clock = new Date();

  before(async () => {
    const ca = await createTestCa();
    t = await startIdpPlatform({
      now: () => clock,
      modules: [
        createCoreModule,
        createIdpModuleWith({
          jpki: { trustAnchors: ca.pem, test: true, crls: [await createCrl(ca, [])] },
          loginThrottle: { maxFailures: 3, windowMs: 60_000 },
        }),
      ],
    });
    const sign = await issueCard(ca, { kind: 'sign' });
    auth = await issueCard(ca, { kind: 'auth' });
    const { nonce } = await t.idp.proofing.issueNonce('setup');
    const enrolled = await t.idp.proofing.enroll({
      binding: 'setup',
      nonce,
      sign: { certificate: sign.der, signature: Buffer.from(await sign.sign(nonce), 'base64') },
      auth: { certificate: auth.der, signature: Buffer.from(await auth.sign(nonce), 'base64') },
    });
    assert.equal(enrolled.ok, true);
    const client = await addClient(t, {
      grantTypes: ['authorization_code'],
      scopes: [],
      redirectUris: ['https://rp.example/cb'],
    });
    rp = await relyingParty(t, client);
  });
  after(() => t.stop());

  it('refuses further card logins after repeated failures until the window has passed', async () => {
    const session = new Session();
    const url = oidc.buildAuthorizationUrl(rp, {
      redirect_uri: 'https://rp.example/cb',
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const start = await session.request(url.href);
    assert.equal(start.status, 303);
    const interaction = new URL(start.location!, t.url).href;
    const nonceOf = (html: string) => /<code class="nonce" id="nonce">([^<]+)<\/code>/.exec(html)![1]!;
    let page = await session.request(interaction);
    assert.equal(page.status, 200);

    const tryLogin = async (signatureOver: (nonce: string) => string) => {
      const nonce = nonceOf(page.text);
      const res = await session.request(`${interaction}/login`, {
        method: 'POST',
        form: { nonce, authCertificate: auth.base64, authSignature: await auth.sign(signatureOver(nonce)) },
      });
      page = res;
      return res;
    };
    for (let i = 0; i < 3; i += 1) {
      const failed = await tryLogin(() => 'wrong');
      assert.equal(failed.status, 400);
      assert.match(failed.text, /data-code="SIGNATURE"/);
    }
    const blocked = await tryLogin((n) => n);
    assert.equal(blocked.status, 429);
    assert.match(blocked.text, /data-code="THROTTLED"/);
    const { rows } = await t.platform.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM core.audit_log WHERE action = 'idp.jpki.login' AND details->>'result' = 'ok'`,
    );
    assert.equal(rows[0]!.n, '0');

    clock = new Date(clock.getTime() + 61_000);
    const allowed = await tryLogin((n) => n);
    assert.equal(allowed.status, 303);
    assert.match(allowed.location ?? '', /\/oidc\/auth\//);
  });
});

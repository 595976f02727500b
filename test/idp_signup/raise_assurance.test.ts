/**
 * Raising assurance in a real browser: a resident signed in with e-mail + password at a shop
 * service (no minimum) opens a service that needs the card; the same login page's card enrollment
 * raises the same common ID to card level, which keeps its points and its service links. A card
 * that already belongs to another common ID goes to the duplicate review instead, and the resident
 * stays at the lower level with no second ID.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { createConsentModule, type ConsentServices } from '../../consent/index.ts';
import { ACR } from '../../idp/index.ts';
import { createPointsModule, type PointsService } from '../../points/index.ts';
import { type Card, createCrl, createTestCa, issueCard, type Person, TARO } from '../idp/jpki_fixtures.ts';
import { addClient, relyingParty } from '../idp/support.ts';
import { freePort } from '../support/ports.ts';
import {
  authorizeUrl,
  launchBrowser,
  linkIn,
  phonePage,
  type SignupPlatform,
  startSignupPlatform,
} from './support.ts';

const HANAKO: Person = {
  name: '枚方　花子',
  gender: '2',
  birth: '419920315',
  address: '大阪府枚方市大垣内町２－１－２０',
};

describe('raising a resident signed in without the card to card level', () => {
  let t: SignupPlatform;
  let browser: Browser;
  let callback: Server;
  let cbBase: string;
  let shop: oidc.Configuration;
  let personal: oidc.Configuration;
  let taroCard: Card;
  let hanakoCard: Card;

  before(async () => {
    const ca = await createTestCa();
    taroCard = await issueCard(ca, { kind: 'sign', person: TARO });
    hanakoCard = await issueCard(ca, { kind: 'sign', person: HANAKO });
    t = await startSignupPlatform({
      idp: { jpki: { trustAnchors: ca.pem, test: true, crls: [await createCrl(ca, [])] } },
      more: [createConsentModule, createPointsModule],
    });
    const port = await freePort();
    cbBase = `http://127.0.0.1:${port}`;
    callback = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => callback.listen(port, '127.0.0.1', resolve));
    const redirectUris = [`${cbBase}/cb`];
    shop = await relyingParty(
      t,
      await addClient(t, { grantTypes: ['authorization_code'], scopes: [], redirectUris }),
    );
    const personalClient = await addClient(t, {
      name: '健康データ連携',
      grantTypes: ['authorization_code'],
      scopes: [],
      redirectUris,
      minimumAcr: ACR.jpkiSign,
    });
    personal = await relyingParty(t, personalClient);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await new Promise((resolve) => callback?.close(resolve));
    await t?.stop();
  });

  const count = async (sql: string) => Number((await t.platform.db.query<{ n: string }>(sql)).rows[0]!.n);

  /** A resident registered by e-mail + password (through the service, as the pages do). */
  const register = async (email: string) => {
    await t.idp.residents.requestSignup({ email });
    const token = linkIn(t.mailer, email).split('/').at(-1)!;
    const done = await t.idp.residents.complete(token, {
      profile: { name: 'テスト 利用者', birthdate: '1992-03-15', postal_code: '573-0027' },
      category: 'resident',
      credential: { password: 'Kawa-no-nagare-2026' },
    });
    assert.equal(done.ok, true);
    return (done as { commonId: string }).commonId;
  };

  const signIn = async (page: Page, rp: oidc.Configuration, email: string) => {
    const a = await authorizeUrl(rp, `${cbBase}/cb`);
    await page.goto(a.url.href);
    await page.fill('#email', email);
    await page.fill('#password', 'Kawa-no-nagare-2026');
    await page.click('#password-login');
    await page.click('#consent');
    await page.waitForURL(/\/cb\?/);
  };

  /** Opens the card-level service; the login page comes back and the card is enrolled there. */
  const enrollAtPersonal = async (page: Page, card: Card) => {
    const a = await authorizeUrl(personal, `${cbBase}/cb`);
    await page.goto(a.url.href);
    await page.waitForSelector('#enroll');
    const nonce = (await page.textContent('#nonce'))!.trim();
    await page.fill('#signCertificate', card.base64);
    await page.fill('#signSignature', await card.sign(nonce));
    await page.click('#enroll');
    return a;
  };

  it('keeps the same common ID, its points and its links', async () => {
    const commonId = await register('hanako@example.jp');
    const points = t.platform.services['points'] as PointsService;
    const consent = t.platform.services['consent'] as ConsentServices;
    await points.createCurrency(
      { code: 'hirakata-pt', municipality: '272108', name: 'ひらかたポイント' },
      'test',
    );
    await points.createPointType(
      { currency: 'hirakata-pt', code: 'shop', name: '買い物', issuer: 'city' },
      'test',
    );
    await points.createPool({ currency: 'hirakata-pt', pool: 'city' }, 'test');
    await points.fundPool({
      currency: 'hirakata-pt',
      pool: 'city',
      amount: 1000,
      idempotency: { scope: 'test', key: 'fund' },
      actor: 'test',
    });
    await points.grant({
      currency: 'hirakata-pt',
      pool: 'city',
      resident: commonId,
      amount: 300,
      pointType: 'shop',
      idempotency: { scope: 'test', key: 'grant' },
      actor: 'test',
    });
    const { code } = await consent.issueLinkCode('sdgs-site', 'member-42');
    await consent.link(commonId, code);
    const accounts = await count('SELECT count(*) AS n FROM idp.accounts');

    const page = await phonePage(browser);
    await signIn(page, shop, 'hanako@example.jp');
    const a = await enrollAtPersonal(page, hanakoCard);
    await page.click('#consent');
    await page.waitForURL(/\/cb\?/);
    const tokens = await oidc.authorizationCodeGrant(personal, new URL(page.url()), {
      pkceCodeVerifier: a.codeVerifier,
      expectedState: a.state,
      expectedNonce: a.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims()!;
    assert.equal(claims.acr, ACR.jpkiSign);
    assert.equal(await t.idp.accounts.commonIdForSubject(String(claims.aud), claims.sub), commonId);
    assert.equal(await count('SELECT count(*) AS n FROM idp.accounts'), accounts, 'no second common ID');
    assert.equal(await t.idp.assurance.levelOf(commonId), ACR.jpkiSign);
    assert.equal((await t.idp.accounts.find(commonId))?.profile?.name, HANAKO.name);
    assert.equal((await points.balance({ currency: 'hirakata-pt', holder: commonId })).balance, 300);
    assert.deepEqual(
      (await consent.links(commonId)).map((l) => l.service),
      ['sdgs-site'],
    );
    // The e-mail login still works and still reaches the same ID.
    assert.equal((await t.idp.residents.login('hanako@example.jp', 'Kawa-no-nagare-2026')).ok, true);
    await page.context().close();
  });

  it('a card already bound to another common ID goes to the review queue, never a second ID', async () => {
    // Taro enrolled with his card earlier, without e-mail.
    const { nonce } = await t.idp.proofing.issueNonce('earlier');
    const enrolled = await t.idp.proofing.enroll({
      binding: 'earlier',
      nonce,
      sign: { certificate: taroCard.der, signature: Buffer.from(await taroCard.sign(nonce), 'base64') },
    });
    assert.equal(enrolled.ok, true);
    const taro = (enrolled as { commonId: string }).commonId;

    const other = await register('someone@example.jp');
    const accounts = await count('SELECT count(*) AS n FROM idp.accounts');
    const page = await phonePage(browser);
    await signIn(page, shop, 'someone@example.jp');
    await enrollAtPersonal(page, taroCard);
    await page.waitForSelector('#error');
    assert.equal(await page.getAttribute('#error', 'data-code'), 'REVIEW');

    assert.equal(await count('SELECT count(*) AS n FROM idp.accounts'), accounts);
    const queue = await t.idp.proofing.reviewQueue();
    assert.deepEqual(
      queue.map((q) => [q.candidateCommonId, q.reason]),
      [[taro, 'card-bound-elsewhere']],
    );
    assert.equal(await t.idp.assurance.levelOf(other), ACR.selfAsserted);
    assert.equal(await count(`SELECT count(*) AS n FROM idp.evidence WHERE common_id = '${other}'`), 0);
    await page.context().close();
  });
});

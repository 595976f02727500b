import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createCoreModule, loadConfig, type ModuleContext } from '../../core/index.ts';
import { CrlRevocationSource, createIdpModuleWith, OcspRevocationSource } from '../../idp/index.ts';
import { type JpkiPresentation, verifyJpki } from '../../idp/jpki/verify_jpki.ts';
import {
  type Card,
  createCrl,
  createTestCa,
  issueCard,
  startOcspResponder,
  TARO,
  type TestCa,
} from './jpki_fixtures.ts';
import { type IdpTestPlatform, startIdpPlatform } from './support.ts';

const NONCE = 'server-issued-nonce-0123456789abcdef';

describe('JPKI certificate and signature verification', () => {
  let ca: TestCa;
  let other: TestCa;
  let signCard: Card;
  let authCard: Card;
  let crl: CrlRevocationSource;
  const at = new Date();
  const anchors = () => ({ certificates: [new X509Certificate(ca.der)], isTest: true });
  const present = async (
    card: Card,
    expected: 'sign' | 'auth',
    nonce = NONCE,
  ): Promise<JpkiPresentation> => ({
    certificate: card.der,
    signature: Buffer.from(await card.sign(nonce), 'base64'),
    nonce: NONCE,
    expected,
  });

  before(async () => {
    ca = await createTestCa();
    other = await createTestCa('CN=Somebody Else CA, C=JP');
    signCard = await issueCard(ca, { kind: 'sign' });
    authCard = await issueCard(ca, { kind: 'auth' });
    crl = new CrlRevocationSource();
    crl.add(await createCrl(ca, ['ABCDEF']));
  });

  it('accepts a signing certificate and extracts the basic 4 info', async () => {
    const result = await verifyJpki(await present(signCard, 'sign'), anchors(), crl, at);
    assert.equal(result.ok, true);
    if (!result.ok) return;
    assert.equal(result.kind, 'sign');
    assert.equal(result.serial, signCard.serial);
    assert.match(result.issuer, /CN=Tsunagu Test JPKI CA/);
    assert.deepEqual(result.basic4, {
      name: TARO.name,
      nameMask: '00000',
      gender: '1',
      birthDate: '1990-01-02',
      era: 4,
      address: TARO.address,
      addressMask: '0'.repeat([...TARO.address].length),
    });
  });

  it('accepts a user-authentication certificate, which carries no basic 4 info', async () => {
    const result = await verifyJpki(await present(authCard, 'auth'), anchors(), crl, at);
    assert.equal(result.ok, true);
    assert.equal(result.ok && result.basic4, undefined);
  });

  it('refuses a tampered signature, a signature over another nonce, an unknown chain and the wrong kind', async () => {
    const p = await present(signCard, 'sign');
    const tampered = Buffer.from(p.signature);
    tampered[10] = (tampered[10] ?? 0) ^ 0xff;
    assert.deepEqual(await verifyJpki({ ...p, signature: tampered }, anchors(), crl, at), {
      ok: false,
      code: 'SIGNATURE',
    });
    assert.deepEqual(await verifyJpki(await present(signCard, 'sign', 'another'), anchors(), crl, at), {
      ok: false,
      code: 'SIGNATURE',
    });
    const stranger = await issueCard(other, { kind: 'sign' });
    assert.deepEqual(await verifyJpki(await present(stranger, 'sign'), anchors(), crl, at), {
      ok: false,
      code: 'CHAIN',
    });
    assert.deepEqual(await verifyJpki(await present(authCard, 'sign'), anchors(), crl, at), {
      ok: false,
      code: 'PROFILE',
    });
  });

  it('refuses expired certificates, missing key usage and malformed basic 4 info', async () => {
    const expired = await issueCard(ca, {
      kind: 'auth',
      notBefore: new Date(at.getTime() - 10 * 86_400_000),
      notAfter: new Date(at.getTime() - 86_400_000),
    });
    assert.deepEqual(await verifyJpki(await present(expired, 'auth'), anchors(), crl, at), {
      ok: false,
      code: 'EXPIRED',
    });
    const noNonRepudiation = await issueCard(ca, { kind: 'sign', keyUsage: 0x80 });
    assert.deepEqual(await verifyJpki(await present(noNonRepudiation, 'sign'), anchors(), crl, at), {
      ok: false,
      code: 'KEY_USAGE',
    });
    const badDob = await issueCard(ca, { kind: 'sign', person: { ...TARO, birth: '419900230' } });
    assert.deepEqual(await verifyJpki(await present(badDob, 'sign'), anchors(), crl, at), {
      ok: false,
      code: 'PROFILE',
    });
    const badMask = await issueCard(ca, { kind: 'sign', person: { ...TARO, nameMask: '0' } });
    assert.deepEqual(await verifyJpki(await present(badMask, 'sign'), anchors(), crl, at), {
      ok: false,
      code: 'PROFILE',
    });
  });

  it('checks revocation through the CRL, failing closed when no current CRL answers', async () => {
    const revoked = await issueCard(ca, { kind: 'auth' });
    const withEntry = new CrlRevocationSource();
    withEntry.add(await createCrl(ca, [revoked.serial]));
    assert.deepEqual(await verifyJpki(await present(revoked, 'auth'), anchors(), withEntry, at), {
      ok: false,
      code: 'REVOKED',
    });
    assert.equal((await verifyJpki(await present(authCard, 'auth'), anchors(), withEntry, at)).ok, true);

    const stale = new CrlRevocationSource();
    stale.add(
      await createCrl(ca, [], {
        thisUpdate: new Date(at.getTime() - 3 * 86_400_000),
        nextUpdate: new Date(at.getTime() - 86_400_000),
      }),
    );
    assert.deepEqual(await verifyJpki(await present(authCard, 'auth'), anchors(), stale, at), {
      ok: false,
      code: 'REVOCATION_UNKNOWN',
    });

    const forged = new CrlRevocationSource();
    forged.add(await createCrl(other, [], {}));
    assert.deepEqual(await verifyJpki(await present(authCard, 'auth'), anchors(), forged, at), {
      ok: false,
      code: 'REVOCATION_UNKNOWN',
    });
  });
});

describe('OCSP revocation source', () => {
  it('answers good and revoked from a signed, fresh response, and unknown for a bad signature or an unreachable responder', async () => {
    const ca = await createTestCa();
    const good = await issueCard(ca, { kind: 'auth' });
    const bad = await issueCard(ca, { kind: 'auth' });
    const anchors = { certificates: [new X509Certificate(ca.der)], isTest: true };
    const present = async (card: Card): Promise<JpkiPresentation> => ({
      certificate: card.der,
      signature: Buffer.from(await card.sign(NONCE), 'base64'),
      nonce: NONCE,
      expected: 'auth',
    });
    const responder = await startOcspResponder(ca, { revoked: [bad.serial] });
    const tampered = await startOcspResponder(ca, { tamper: true });
    const stale = await startOcspResponder(ca, { thisUpdate: () => new Date(Date.now() - 2 * 86_400_000) });
    try {
      const source = new OcspRevocationSource({ url: responder.url });
      const at = new Date();
      assert.equal((await verifyJpki(await present(good), anchors, source, at)).ok, true);
      assert.deepEqual(await verifyJpki(await present(bad), anchors, source, at), {
        ok: false,
        code: 'REVOKED',
      });
      assert.equal(responder.requests, 2);
      for (const url of [tampered.url, stale.url, 'http://127.0.0.1:9/ocsp']) {
        assert.deepEqual(
          await verifyJpki(
            await present(good),
            anchors,
            new OcspRevocationSource({ url, timeoutMs: 2000 }),
            at,
          ),
          {
            ok: false,
            code: 'REVOCATION_UNKNOWN',
          },
        );
      }
    } finally {
      await responder.stop();
      await tampered.stop();
      await stale.stop();
    }
  });
});

describe('enrollment, login and duplicate prevention', () => {
  let t: IdpTestPlatform;
  let ca: TestCa;
  let clock = new Date();
  before(async () => {
    ca = await createTestCa();
    const crl = await createCrl(ca, []);
    t = await startIdpPlatform({
      now: () => clock,
      modules: [
        createCoreModule,
        createIdpModuleWith({ jpki: { trustAnchors: ca.pem, test: true, crls: [crl] } }),
      ],
    });
  });
  after(() => t.stop());

  const count = async (sql: string) => Number((await t.platform.db.query<{ n: string }>(sql)).rows[0]!.n);
  const signed = async (card: Card, nonce: string) => ({
    certificate: card.der,
    signature: Buffer.from(await card.sign(nonce), 'base64'),
  });

  it('enrolls both certificates under one new common ID, then logs in with the authentication certificate', async () => {
    const sign = await issueCard(ca, { kind: 'sign' });
    const auth = await issueCard(ca, { kind: 'auth' });
    const { nonce } = await t.idp.proofing.issueNonce('uid-1');
    const enrolled = await t.idp.proofing.enroll({
      binding: 'uid-1',
      nonce,
      sign: await signed(sign, nonce),
      auth: await signed(auth, nonce),
    });
    assert.equal(enrolled.ok, true);
    if (!enrolled.ok) return;
    assert.match(enrolled.commonId, /^[a-z2-7]{26}$/);
    assert.equal(enrolled.acr, 'urn:tsunagu:acr:jpki-sign');
    assert.equal(enrolled.created, true);

    const account = await t.idp.accounts.find(enrolled.commonId);
    assert.equal(account?.trustFramework, 'test');
    assert.equal(account?.profile?.name, TARO.name);
    assert.equal(account?.profile?.birthdate, '1990-01-02');
    assert.equal(account?.profile?.gender, 'male');
    const raw = await t.platform.db.query<{ sealed_profile: string }>(
      'SELECT sealed_profile FROM idp.accounts',
    );
    assert.equal(raw.rows[0]!.sealed_profile.includes('1990'), false);
    assert.equal(
      await count(`SELECT count(*) AS n FROM idp.evidence WHERE common_id = '${enrolled.commonId}'`),
      2,
    );

    const again = await t.idp.proofing.issueNonce('uid-2');
    const login = await t.idp.proofing.login({
      binding: 'uid-2',
      nonce: again.nonce,
      card: await signed(auth, again.nonce),
    });
    assert.deepEqual(login, {
      ok: true,
      commonId: enrolled.commonId,
      acr: 'urn:tsunagu:acr:jpki-auth',
      amr: ['hwk', 'pin'],
      created: false,
    });

    const replay = await t.idp.proofing.login({
      binding: 'uid-2',
      nonce: again.nonce,
      card: await signed(auth, again.nonce),
    });
    assert.deepEqual(replay, { ok: false, code: 'NONCE' });
  });

  it('refuses a nonce issued to another interaction and an expired nonce', async () => {
    const auth = await issueCard(ca, { kind: 'auth' });
    const mine = await t.idp.proofing.issueNonce('uid-a');
    assert.deepEqual(
      await t.idp.proofing.login({
        binding: 'uid-b',
        nonce: mine.nonce,
        card: await signed(auth, mine.nonce),
      }),
      {
        ok: false,
        code: 'NONCE',
      },
    );
    const late = await t.idp.proofing.issueNonce('uid-c');
    const start = clock;
    clock = new Date(start.getTime() + 5 * 60_000 + 1000);
    try {
      assert.deepEqual(
        await t.idp.proofing.login({
          binding: 'uid-c',
          nonce: late.nonce,
          card: await signed(auth, late.nonce),
        }),
        {
          ok: false,
          code: 'NONCE',
        },
      );
    } finally {
      clock = start;
    }
  });

  it('an unknown authentication certificate is not enrolled', async () => {
    const auth = await issueCard(ca, { kind: 'auth' });
    const { nonce } = await t.idp.proofing.issueNonce('uid-x');
    assert.deepEqual(
      await t.idp.proofing.login({ binding: 'uid-x', nonce, card: await signed(auth, nonce) }),
      {
        ok: false,
        code: 'NOT_ENROLLED',
      },
    );
  });

  it('a second enrollment of the same person with a new card goes to review and creates no second ID', async () => {
    const accounts = await count('SELECT count(*) AS n FROM idp.accounts');
    const newCard = await issueCard(ca, { kind: 'sign', person: { ...TARO, name: '山田 太郎' } });
    const { nonce } = await t.idp.proofing.issueNonce('uid-dup');
    const result = await t.idp.proofing.enroll({
      binding: 'uid-dup',
      nonce,
      sign: await signed(newCard, nonce),
    });
    assert.deepEqual(result, { ok: false, code: 'REVIEW' });
    assert.equal(await count('SELECT count(*) AS n FROM idp.accounts'), accounts);
    const queue = await t.idp.proofing.reviewQueue();
    assert.equal(queue.length, 1);
    assert.equal(queue[0]!.reason, 'basic4-match');
    const evidence = await count(`SELECT count(*) AS n FROM idp.evidence WHERE serial = '${newCard.serial}'`);
    assert.equal(evidence, 0);
  });

  it('re-enrolling with a known signing certificate is the same person', async () => {
    const sign = await issueCard(ca, {
      kind: 'sign',
      person: { ...TARO, name: '佐藤　花子', gender: '2', birth: '520200301' },
    });
    const first = await t.idp.proofing.issueNonce('uid-r1');
    const a = await t.idp.proofing.enroll({
      binding: 'uid-r1',
      nonce: first.nonce,
      sign: await signed(sign, first.nonce),
    });
    const second = await t.idp.proofing.issueNonce('uid-r2');
    const b = await t.idp.proofing.enroll({
      binding: 'uid-r2',
      nonce: second.nonce,
      sign: await signed(sign, second.nonce),
    });
    assert.equal(a.ok && b.ok && a.commonId === b.commonId, true);
    assert.equal(b.ok && b.created, false);
    assert.equal((await t.idp.accounts.find(a.ok ? a.commonId : ''))?.profile?.birthdate, '2020-03-01');
  });
});

describe('production safety', () => {
  it('refuses to start in production with a test trust anchor', async () => {
    const ca = await createTestCa();
    const config = loadConfig({ NODE_ENV: 'production', MASTER_KEY: Buffer.alloc(32, 1).toString('base64') });
    const ctx = { config, logger: { warn() {} } } as unknown as ModuleContext;
    assert.throws(
      () => createIdpModuleWith({ jpki: { trustAnchors: ca.pem, test: true } })(ctx),
      /refusing to start in production with a test JPKI trust anchor/,
    );
  });
});

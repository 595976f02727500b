import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { createCoreModule } from '../../core/index.ts';
import { createIdpModuleWith } from '../../idp/index.ts';
import { send } from '../support/http.ts';
import {
  type Card,
  createCrl,
  createTestCa,
  issueCard,
  type Person,
  TARO,
  type TestCa,
} from './jpki_fixtures.ts';
import { addClient, type IdpTestPlatform, relyingParty, startIdpPlatform } from './support.ts';

const HANAKO: Person = {
  name: '佐藤　花子',
  gender: '2',
  birth: '519900505',
  address: '鳥取県鳥取市東町１－２２０',
};

describe('duplicate review and link corrections with two approvers', () => {
  let t: IdpTestPlatform;
  let ca: TestCa;
  let staffA: string;
  let staffB: string;
  let partner: { clientId: string; clientSecret: string };
  let partnerToken: string;
  let taroId: string;
  let taroSecondCard: Card;

  const token = async (client: { clientId: string; clientSecret: string }, scope: string) =>
    (await oidc.clientCredentialsGrant(await relyingParty(t, client), { scope })).access_token;
  const api = (path: string, bearer: string, body?: unknown) =>
    send(`${t.url}/api/admin/idp${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${bearer}` },
      ...(body === undefined ? {} : { body }),
    });
  const enroll = async (binding: string, sign: Card, auth?: Card) => {
    const { nonce } = await t.idp.proofing.issueNonce(binding);
    const s = { certificate: sign.der, signature: Buffer.from(await sign.sign(nonce), 'base64') };
    const a = auth
      ? { certificate: auth.der, signature: Buffer.from(await auth.sign(nonce), 'base64') }
      : undefined;
    return t.idp.proofing.enroll({ binding, nonce, sign: s, ...(a ? { auth: a } : {}) });
  };
  const count = async (sql: string, values: unknown[] = []) =>
    Number((await t.platform.db.query<{ n: string }>(sql, values)).rows[0]!.n);

  before(async () => {
    ca = await createTestCa();
    t = await startIdpPlatform({
      modules: [
        createCoreModule,
        createIdpModuleWith({ jpki: { trustAnchors: ca.pem, test: true, crls: [await createCrl(ca, [])] } }),
      ],
    });
    staffA = await token(
      await addClient(t, { grantTypes: ['client_credentials'], scopes: ['idp:identity'] }),
      'idp:identity',
    );
    staffB = await token(
      await addClient(t, { grantTypes: ['client_credentials'], scopes: ['idp:identity'] }),
      'idp:identity',
    );
    partner = await addClient(t, {
      grantTypes: ['authorization_code', 'client_credentials'],
      scopes: ['events'],
      redirectUris: ['https://partner.example/cb'],
    });
    partnerToken = await token(partner, 'events');
    const first = await enroll(
      'e1',
      await issueCard(ca, { kind: 'sign' }),
      await issueCard(ca, { kind: 'auth' }),
    );
    assert.equal(first.ok, true);
    taroId = first.ok ? first.commonId : '';
    taroSecondCard = await issueCard(ca, { kind: 'sign' });
    assert.deepEqual(await enroll('e2', taroSecondCard), { ok: false, code: 'REVIEW' });
  });
  after(() => t.stop());

  it('lists the duplicate candidate and links it only after a second staff member approves', async () => {
    const reviews = await api('/reviews', staffA);
    assert.equal(reviews.status, 200);
    assert.equal(reviews.body.reviews.length, 1);
    assert.equal(reviews.body.reviews[0].candidateCommonId, taroId);
    assert.equal(JSON.stringify(reviews.body).includes(TARO.name), false);

    const proposed = await api('/link-changes', staffA, {
      operation: 'review',
      reviewId: reviews.body.reviews[0].id,
      decision: 'link',
      reason: '窓口で本人確認済み',
    });
    assert.equal(proposed.status, 201);
    assert.equal(proposed.body.status, 'proposed');

    const evidenceBefore = await count('SELECT count(*) AS n FROM idp.evidence');
    const self = await api(`/link-changes/${proposed.body.id}/approve`, staffA, {});
    assert.equal(self.status, 403);
    assert.equal(self.body.code, 'second-approver-required');
    assert.equal(await count('SELECT count(*) AS n FROM idp.evidence'), evidenceBefore);

    const approved = await api(`/link-changes/${proposed.body.id}/approve`, staffB, {});
    assert.equal(approved.status, 200);
    assert.equal(approved.body.status, 'applied');
    assert.deepEqual(approved.body.result, { decision: 'link', commonId: taroId, linked: 1 });

    // The new card now signs Taro in; no second common ID was ever created.
    const { nonce } = await t.idp.proofing.issueNonce('l1');
    const login = await t.idp.proofing.login({
      binding: 'l1',
      nonce,
      card: {
        certificate: taroSecondCard.der,
        signature: Buffer.from(await taroSecondCard.sign(nonce), 'base64'),
      },
    });
    assert.equal(login.ok && login.commonId, taroId);
    assert.equal(await count('SELECT count(*) AS n FROM idp.accounts'), 1);
    assert.equal((await api('/reviews', staffA)).body.reviews.length, 0);
  });

  it('merges a second ID into the first: alias kept, sessions and grants revoked, partner notified', async () => {
    const h = await enroll('e3', await issueCard(ca, { kind: 'sign', person: HANAKO }));
    assert.equal(h.ok, true);
    const hanakoId = h.ok ? h.commonId : '';
    const subH = await t.idp.accounts.pairwiseSubject(hanakoId, partner.clientId);
    const subT = await t.idp.accounts.pairwiseSubject(taroId, partner.clientId);
    const provider = t.idp.provider();
    const grant = new provider.Grant({ accountId: hanakoId, clientId: partner.clientId });
    grant.addOIDCScope('openid');
    const grantId = await grant.save();
    assert.ok(await provider.Grant.find(grantId));

    const proposed = await api('/link-changes', staffA, {
      operation: 'merge',
      from: hanakoId,
      into: taroId,
      reason: '同一人物',
    });
    const applied = await api(`/link-changes/${proposed.body.id}/approve`, staffB, {});
    assert.equal(applied.status, 200);
    assert.equal(applied.body.result.notified, 1);

    assert.equal((await t.idp.accounts.find(hanakoId))?.status, 'merged');
    assert.equal((await t.idp.accounts.find(hanakoId))?.mergedInto, taroId);
    assert.equal(await t.idp.accounts.commonIdForSubject(partner.clientId, subH), taroId);
    assert.equal(await provider.Grant.find(grantId), undefined);
    assert.equal(
      await count(`SELECT count(*) AS n FROM idp.evidence WHERE common_id = $1 AND status = 'active'`, [
        hanakoId,
      ]),
      0,
    );

    const events = await send(`${t.url}/api/idp/events?after=0`, {
      headers: { authorization: `Bearer ${partnerToken}` },
    });
    assert.equal(events.status, 200);
    const changed = events.body.events.find((e: { type: string }) => e.type === 'identifier-changed');
    assert.deepEqual(changed.subjects, [subH, subT]);

    const audit = await count(`SELECT count(*) AS n FROM core.audit_log WHERE action = 'idp.link.merge'`);
    assert.equal(audit, 1);
  });

  it('splits wrongly merged evidence into a new common ID, and unlinks a certificate', async () => {
    const { rows } = await t.platform.db.query<{ id: string; serial: string }>(
      `SELECT id, serial FROM idp.evidence WHERE common_id = $1 AND status = 'active' ORDER BY id`,
      [taroId],
    );
    assert.equal(rows.length, 4);
    const hanakoEvidence = rows[3]!;
    const proposed = await api('/link-changes', staffA, {
      operation: 'split',
      commonId: taroId,
      evidenceIds: [hanakoEvidence.id],
      reason: '別人',
    });
    const applied = await api(`/link-changes/${proposed.body.id}/approve`, staffB, {});
    assert.equal(applied.status, 200);
    const newId = applied.body.result.newCommonId as string;
    assert.match(newId, /^[a-z2-7]{26}$/);
    assert.notEqual(newId, taroId);
    assert.equal(
      await count(
        `SELECT count(*) AS n FROM idp.evidence WHERE common_id = $1 AND serial = $2 AND status = 'active'`,
        [newId, hanakoEvidence.serial],
      ),
      1,
    );

    const unlink = await api('/link-changes', staffA, {
      operation: 'unlink',
      evidenceId: rows[2]!.id,
      reason: '紛失',
    });
    assert.equal((await api(`/link-changes/${unlink.body.id}/approve`, staffB, {})).status, 200);
    const { nonce } = await t.idp.proofing.issueNonce('l2');
    const lost = await t.idp.proofing.login({
      binding: 'l2',
      nonce,
      card: {
        certificate: taroSecondCard.der,
        signature: Buffer.from(await taroSecondCard.sign(nonce), 'base64'),
      },
    });
    assert.deepEqual(lost, { ok: false, code: 'NOT_ENROLLED' });
  });

  it('a change that no longer applies fails cleanly and changes nothing', async () => {
    const again = await api('/link-changes', staffA, {
      operation: 'merge',
      from: taroId,
      into: taroId,
      reason: 'x',
    });
    const result = await api(`/link-changes/${again.body.id}/approve`, staffB, {});
    assert.equal(result.status, 422);
    assert.equal(result.body.code, 'link-change-invalid');
    const list = await api('/link-changes', staffA);
    assert.equal(list.body.changes.find((c: { id: string }) => c.id === again.body.id).status, 'failed');
    assert.equal((await t.idp.accounts.find(taroId))?.status, 'active');

    const bad = await api('/link-changes', staffA, {
      operation: 'merge',
      from: 'nope',
      into: taroId,
      reason: 'x',
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'validation-failed');
    const noScope = await send(`${t.url}/api/admin/idp/reviews`, {
      headers: { authorization: `Bearer ${partnerToken}` },
    });
    assert.equal(noScope.status, 403);
    assert.equal(noScope.body.code, 'insufficient-scope');
  });
});

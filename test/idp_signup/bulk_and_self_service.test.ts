/**
 * Staff bulk registration over the admin API (a Shift_JIS CSV with errors in known rows: reported,
 * nothing written; the corrected file registers and invites; a re-run changes nothing and mails no
 * one), logical deletion, residents editing only their own data, and lost cards and devices: a
 * revoked terminal or IC card is refused at once, a lost My Number card stops card login and is no
 * longer found by card readers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import iconv from 'iconv-lite';
import { createCrl, createTestCa, issueCard, TARO } from '../idp/jpki_fixtures.ts';
import { staticTokens } from '../support/platform.ts';
import { linkIn, type SignupPlatform, startSignupPlatform } from './support.ts';

const tokens: Record<string, { subject?: string; clientId: string; scopes: string[] }> = {
  staff: { subject: 'st_admin', clientId: 'console', scopes: ['idp:residents'] },
  other: { subject: 'st_other', clientId: 'console', scopes: ['idp:clients'] },
  partner: { clientId: 'partner-app', scopes: ['idp:self'] },
};

describe('bulk registration, self-service and lost devices', () => {
  let t: SignupPlatform;
  const csv = (lines: string[]) => iconv.encode(lines.join('\r\n'), 'cp932');
  const header = 'メールアドレス,氏名,生年月日,郵便番号,区分';
  const good = [
    header,
    'sato@example.jp,佐藤 一郎,1980-01-02,793-0030,在住',
    'suzuki@example.jp,鈴木 二美,1985-02-03,7930041,在勤',
    'takahashi@example.jp,高橋 三郎,2001-03-04,793-0042,student',
    'tanaka@example.jp,田中 四季,1970-04-05,793-0043,来訪',
  ];

  before(async () => {
    const ca = await createTestCa();
    t = await startSignupPlatform({
      idp: { jpki: { trustAnchors: ca.pem, test: true, crls: [await createCrl(ca, [])] } },
      platform: { tokenVerifier: staticTokens(tokens) },
    });
    Object.assign(t, { ca });
  });
  after(async () => {
    await t?.stop();
  });

  const api = (path: string, init: RequestInit & { token?: string } = {}) =>
    fetch(`${t.url}${path}`, {
      ...init,
      headers: {
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        ...(init.headers as Record<string, string>),
      },
    });
  const postCsv = (body: Buffer, query = '', token = 'staff') =>
    api(`/api/admin/idp/residents/bulk${query}`, {
      method: 'POST',
      token,
      headers: { 'content-type': 'text/csv' },
      body: new Uint8Array(body),
    });
  const count = async (sql: string) => Number((await t.platform.db.query<{ n: string }>(sql)).rows[0]!.n);

  it('reports the rows in error and writes nothing, then registers and invites the corrected file', async () => {
    const bad = csv([
      header,
      'sato@example.jp,佐藤 一郎,1980-01-02,793-0030,在住',
      'not-an-address,鈴木 二美,1985-02-03,793-0041,在勤',
      'takahashi@example.jp,高橋 三郎,2001-03-04,793-0042,student',
      'tanaka@example.jp,田中 四季,1970-02-30,793-0043,',
      'sato@example.jp,佐藤 一郎,1980-01-02,793-0030,在住',
    ]);
    const preview = await postCsv(bad);
    assert.equal(preview.status, 200);
    const report = (await preview.json()) as { encoding: string; issues: unknown[]; applied: boolean };
    assert.equal(report.encoding, 'shift_jis');
    assert.deepEqual(report.issues, [
      { row: 3, field: 'email', code: 'invalid' },
      { row: 5, field: 'category', code: 'missing' },
      { row: 5, field: 'birthdate', code: 'invalid' },
      { row: 6, field: 'email', code: 'duplicate' },
    ]);
    const refused = await postCsv(bad, '?apply=true');
    assert.equal(refused.status, 422);
    assert.equal(((await refused.json()) as { code: string }).code, 'resident-csv-invalid');
    assert.equal(await count('SELECT count(*) AS n FROM idp.email_logins'), 0);
    assert.equal(await count('SELECT count(*) AS n FROM idp.accounts'), 0);
    assert.equal(t.mailer.sent.length, 0);

    const noScope = await postCsv(csv(good), '?apply=true', 'other');
    assert.equal(noScope.status, 403);
    assert.equal(await count('SELECT count(*) AS n FROM idp.email_logins'), 0);

    const dry = (await (await postCsv(csv(good))).json()) as { create: number; applied: boolean };
    assert.deepEqual([dry.create, dry.applied], [4, false]);
    assert.equal(await count('SELECT count(*) AS n FROM idp.accounts'), 0, 'a preview writes nothing');

    const applied = await postCsv(csv(good), '?apply=true');
    assert.equal(applied.status, 201);
    const done = (await applied.json()) as { create: number; invited: number; applied: boolean };
    assert.deepEqual([done.create, done.invited, done.applied], [4, 4, true]);
    assert.equal(t.mailer.sent.length, 4);
    assert.match(t.mailer.sent[0]!.subject, /利用登録のご案内/);
  });

  it('a re-run changes nothing and mails no one; a changed row is updated', async () => {
    const again = (await (await postCsv(csv(good), '?apply=true')).json()) as Record<string, number>;
    assert.deepEqual([again['create'], again['update'], again['unchanged'], again['invited']], [0, 0, 4, 0]);
    assert.equal(t.mailer.sent.length, 4);
    const changed = [...good];
    changed[1] = 'sato@example.jp,佐藤 一郎,1980-01-02,793-0099,在住';
    const updated = (await (await postCsv(csv(changed), '?apply=true')).json()) as Record<string, number>;
    assert.deepEqual([updated['create'], updated['update'], updated['unchanged']], [0, 1, 3]);
    const sato = await t.idp.residents.findByEmail('sato@example.jp');
    assert.equal(sato?.profile['postal_code'], '793-0099');
    assert.equal(sato?.status, 'invited');
  });

  it('an invited resident sets a password through the mailed link', async () => {
    const link = linkIn(t.mailer, 'suzuki@example.jp');
    const page = await fetch(link);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /利用登録の手続き/);
    const form = new URLSearchParams({
      name: '鈴木 二美',
      birthdate: '1985-02-03',
      postal_code: '793-0041',
      category: 'worker',
      password: 'Ishizuchi-san-1982m',
    });
    const res = await fetch(link, { method: 'POST', body: form });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /登録が完了しました/);
    assert.equal((await t.idp.residents.findByEmail('suzuki@example.jp'))?.status, 'active');
    assert.equal((await t.idp.residents.login('suzuki@example.jp', 'Ishizuchi-san-1982m')).ok, true);
  });

  it('residents read and change only their own data', async () => {
    const sato = (await t.idp.residents.findByEmail('sato@example.jp'))!.commonId;
    const tanaka = (await t.idp.residents.findByEmail('tanaka@example.jp'))!.commonId;
    tokens['sato'] = { subject: sato, clientId: 'portal', scopes: ['idp:self'] };
    tokens['tanaka'] = { subject: tanaka, clientId: 'portal', scopes: ['idp:self'] };

    const mine = await api('/api/idp/me/profile', { token: 'sato' });
    assert.equal(mine.status, 200);
    const body = (await mine.json()) as { email: string; acr: string; category: string };
    assert.deepEqual(
      [body.email, body.acr, body.category],
      ['sato@example.jp', 'urn:tsunagu:acr:self-asserted', 'resident'],
    );

    const put = await api('/api/idp/me/profile', {
      method: 'PUT',
      token: 'sato',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ profile: { name: '佐藤 一朗' }, category: 'worker' }),
    });
    assert.equal(put.status, 200);
    assert.equal((await t.idp.residents.find(sato))?.profile['name'], '佐藤 一朗');
    assert.equal(
      (await t.idp.residents.find(tanaka))?.profile['name'],
      '田中 四季',
      'the other resident is untouched',
    );

    const invalid = await api('/api/idp/me/profile', {
      method: 'PUT',
      token: 'sato',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ profile: { birthdate: '2099-01-01' } }),
    });
    assert.equal(invalid.status, 400);
    assert.equal((await t.idp.residents.find(sato))?.profile['birthdate'], '1980-01-02');

    const partner = await api('/api/idp/me/profile', { token: 'partner' });
    assert.equal(partner.status, 403, 'a client-credentials token is not a resident');
  });

  it('logical deletion by staff disables the account and keeps the row', async () => {
    const tanaka = (await t.idp.residents.findByEmail('tanaka@example.jp'))!.commonId;
    const del = await api(`/api/admin/idp/residents/${tanaka}`, { method: 'DELETE', token: 'staff' });
    assert.equal(del.status, 204);
    assert.equal((await t.idp.residents.find(tanaka))?.status, 'deleted');
    assert.equal(await t.idp.accounts.isActive(tanaka), false);
    assert.equal(await count('SELECT count(*) AS n FROM idp.email_logins'), 4, 'nothing erased');
    const again = await api(`/api/admin/idp/residents/${tanaka}`, { method: 'DELETE', token: 'staff' });
    assert.equal(again.status, 404);
    // The address can be registered again: a new common ID, the deleted row kept.
    const back = (await (await postCsv(csv([header, good[4]!]), '?apply=true&invite=false')).json()) as {
      create: number;
    };
    assert.equal(back.create, 1);
    assert.notEqual((await t.idp.residents.findByEmail('tanaka@example.jp'))?.commonId, tanaka);
    assert.equal((await t.idp.residents.find(tanaka))?.status, 'deleted');
    assert.equal(await count('SELECT count(*) AS n FROM idp.email_logins'), 5);
    const audit = await count(
      `SELECT count(*) AS n FROM core.audit_log WHERE action = 'idp.resident.delete'`,
    );
    assert.equal(audit, 1);
  });

  it('a revoked terminal and a revoked IC card are refused at once, and revocation is audited', async () => {
    const terminal = await api('/api/admin/idp/devices', {
      method: 'POST',
      token: 'staff',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'terminal', identifier: 'RDR-0042', label: '西条駅前 読取機' }),
    });
    assert.equal(terminal.status, 201);
    const { id } = (await terminal.json()) as { id: string };
    assert.equal(await t.idp.devices.isUsable('terminal', 'RDR-0042'), true);
    const revoked = await api(`/api/admin/idp/devices/${id}/revoke`, {
      method: 'POST',
      token: 'staff',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reason: '盗難 / stolen' }),
    });
    assert.equal(revoked.status, 200);
    assert.equal(await t.idp.devices.isUsable('terminal', 'RDR-0042'), false);
    const audit = await t.platform.db.query<{ actor: string; details: { kind: string } }>(
      `SELECT actor, details FROM core.audit_log WHERE action = 'idp.device.revoke'`,
    );
    assert.deepEqual(audit.rows, [
      { actor: 'staff:st_admin', details: { kind: 'terminal', reason: '盗難 / stolen' } },
    ]);

    // An IC card: only its owner (or staff) can revoke it.
    const sato = (await t.idp.residents.findByEmail('sato@example.jp'))!.commonId;
    const card = await t.idp.devices.register(
      { kind: 'ic-card', identifier: '0123456789ABCDEF', commonId: sato, label: '交通系ICカード' },
      'staff:st_admin',
    );
    tokens['suzuki'] = {
      subject: (await t.idp.residents.findByEmail('suzuki@example.jp'))!.commonId,
      clientId: 'portal',
      scopes: ['idp:self'],
    };
    const notYours = await api(`/api/idp/me/devices/${card.id}/revoke`, {
      method: 'POST',
      token: 'suzuki',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'lost' }),
    });
    assert.equal(notYours.status, 404);
    assert.equal(await t.idp.devices.isUsable('ic-card', '0123456789abcdef'), true);
    const own = await api(`/api/idp/me/devices/${card.id}/revoke`, {
      method: 'POST',
      token: 'sato',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'lost' }),
    });
    assert.equal(own.status, 200);
    assert.equal(await t.idp.devices.isUsable('ic-card', '0123456789ABCDEF'), false);
    assert.equal(await t.idp.devices.ownerOf('0123456789ABCDEF'), undefined);
  });

  it('a lost My Number card is unlinked and card login stops', async () => {
    const ca = (t as unknown as { ca: Awaited<ReturnType<typeof createTestCa>> }).ca;
    const card = await issueCard(ca, { kind: 'sign', person: TARO });
    const signed = async (binding: string) => {
      const { nonce } = await t.idp.proofing.issueNonce(binding);
      return { nonce, signature: Buffer.from(await card.sign(nonce), 'base64') };
    };
    const e = await signed('enroll');
    const enrolled = await t.idp.proofing.enroll({
      binding: 'enroll',
      nonce: e.nonce,
      sign: { certificate: card.der, signature: e.signature },
    });
    assert.equal(enrolled.ok, true);
    const taro = (enrolled as { commonId: string }).commonId;
    tokens['taro'] = { subject: taro, clientId: 'portal', scopes: ['idp:self'] };
    const l1 = await signed('login-1');
    assert.equal(
      (
        await t.idp.proofing.login({
          binding: 'login-1',
          nonce: l1.nonce,
          card: { certificate: card.der, signature: l1.signature },
        })
      ).ok,
      true,
    );
    // Card readers find the card's holder through the same evidence.
    assert.equal(
      await t.idp.proofing.commonIdForCertificate({ kind: 'jpki-sign', serial: card.serial }),
      taro,
    );
    const res = await api('/api/idp/me/card/revoke', {
      method: 'POST',
      token: 'taro',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reason: '紛失 / lost' }),
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { certificates: 1 });
    const l2 = await signed('login-2');
    const refused = await t.idp.proofing.login({
      binding: 'login-2',
      nonce: l2.nonce,
      card: { certificate: card.der, signature: l2.signature },
    });
    assert.deepEqual(refused, { ok: false, code: 'NOT_ENROLLED' });
    assert.equal(
      await t.idp.proofing.commonIdForCertificate({ kind: 'jpki-sign', serial: card.serial }),
      undefined,
      'a card reader no longer finds the lost card',
    );
    assert.equal(await count(`SELECT count(*) AS n FROM core.audit_log WHERE action = 'idp.card.revoke'`), 1);
  });
});

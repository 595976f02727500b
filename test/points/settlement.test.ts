/** Merchant settlement: circulated points only, reversals offset, idempotent periods, 全銀 export. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ProblemError } from '../../core/index.ts';
import { send } from '../support/http.ts';
import { staticTokens } from '../support/platform.ts';
import { grant, newKey, type PointsFixture, pay, STAFF, startPoints } from './fixtures.ts';

const APRIL = { from: '2026-03-31T15:00:00.000Z', to: '2026-04-30T15:00:00.000Z' }; // April in JST
const bank = (holderKana: string, accountNumber: string) => ({
  bankCode: '0158',
  bankName: 'ｴﾋﾒｷﾞﾝｺｳ',
  branchCode: '301',
  branchName: 'ｻｲｼﾞｮｳ',
  accountType: '1',
  accountNumber,
  holderKana,
});

describe('points settlement', () => {
  let f: PointsFixture;
  before(async () => {
    f = await startPoints({
      tokenVerifier: staticTokens({
        staff: { subject: 'sato', clientId: 'console', scopes: ['points:admin'] },
      }),
    });
  });
  after(() => f.t.stop());

  it('claims only circulated points, offsets reversals, and settles a period once', async () => {
    await grant(f, 's-1', 1000);
    await pay(f, 's-1', 'm1', 300);
    const wrong = await pay(f, 's-1', 'm1', 200);
    await pay(f, 's-1', 'm2', 50);
    await f.points.reverse({
      journalId: wrong.journalId,
      reason: '二重',
      idempotency: newKey(),
      actor: STAFF,
    });
    // points granted to the merchant itself are not redeemable
    const c = await f.points.currency('saijo-lsp');
    const type = await f.points.pointType('saijo-lsp', 'event');
    await f.t.platform.db.query(
      `SELECT points.post('staff', 'own-grant', 'h', 'grant', $1, null, '{}', $2, $3)`,
      [
        STAFF,
        JSON.stringify([
          {
            currency: c.id,
            currencyCode: c.code,
            from: { kind: 'pool', holder: 'city' },
            to: { kind: 'merchant', holder: 'm1' },
            amount: 999,
            pointType: type.id,
          },
        ]),
        f.clock.now,
      ],
    );

    const settled = await f.points.settle({ currency: 'saijo-lsp', ...APRIL, actor: STAFF });
    assert.deepEqual(
      settled.map(({ claimJournalId, ...s }) => ({ ...s, claimed: claimJournalId !== null })),
      [
        { merchant: 'm1', received: 500, cashback: 0, net: 300, claimed: true },
        { merchant: 'm2', received: 50, cashback: 0, net: 50, claimed: true },
      ],
    );
    const m1 = await f.points.balance({ currency: 'saijo-lsp', kind: 'merchant', holder: 'm1' });
    assert.equal(m1.balance, 999); // only its own, non-circulated grant is left
    const again = await f.points.settle({ currency: 'saijo-lsp', ...APRIL, actor: STAFF });
    assert.deepEqual(again, settled);
    assert.equal(
      (await f.points.balance({ currency: 'saijo-lsp', kind: 'merchant', holder: 'm1' })).balance,
      999,
    );
  });

  it('exports the period as a 全銀 総合振込 file of 120-byte Shift_JIS records', async () => {
    await assert.rejects(
      f.points.exportZengin({
        currency: 'saijo-lsp',
        ...APRIL,
        actor: STAFF,
        requester: {
          code: '1234567890',
          nameKana: 'ｻｲｼﾞｮｳｼ',
          transferDate: '2026-05-10',
          account: bank('ｻｲｼﾞｮｳｼ', '0000001'),
        },
      }),
      (e: unknown) => e instanceof ProblemError && e.detail === 'No bank details for: m1, m2',
    );
    await f.points.setMerchantBank('m1', bank('ｻｲｼﾞｮｳｼｮｳﾃﾝ', '1234567'), STAFF);
    await f.points.setMerchantBank('m2', bank('ｲｼﾂﾞﾁｼｮｸﾄﾞｳ', '7654321'), STAFF);
    const res = await fetch(`${f.t.url}/api/points/admin/settlements/zengin`, {
      method: 'POST',
      headers: { authorization: 'Bearer staff', 'content-type': 'application/json' },
      body: JSON.stringify({
        currency: 'saijo-lsp',
        ...APRIL,
        requester: {
          code: '1234567890',
          nameKana: 'ｻｲｼﾞｮｳｼ',
          transferDate: '2026-05-10',
          account: bank('ｻｲｼﾞｮｳｼ', '0000001'),
        },
      }),
    });
    assert.equal(res.status, 200);
    const bytes = Buffer.from(await res.arrayBuffer());
    const file = await f.points.exportZengin({
      currency: 'saijo-lsp',
      ...APRIL,
      actor: STAFF,
      requester: {
        code: '1234567890',
        nameKana: 'ｻｲｼﾞｮｳｼ',
        transferDate: '2026-05-10',
        account: bank('ｻｲｼﾞｮｳｼ', '0000001'),
      },
    });
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    assert.equal(bytes.length, 5 * 122);
    assert.equal(file.length, 5 * 122); // header, m1, m2, trailer, end
    assert.deepEqual(bytes, file);
    const records = file.toString('latin1').split('\r\n').slice(0, 5);
    assert.deepEqual(
      records.map((r) => r.length),
      [120, 120, 120, 120, 120],
    );
    assert.equal(records[0]!.slice(0, 14), '12101234567890');
    assert.equal(records[0]!.slice(54, 58), '0510');
    // data record: bank 0158, branch 301, ordinary account 1234567, amount 300
    const m1 = records[1]!;
    assert.equal(m1.slice(0, 5), '20158');
    assert.equal(m1.slice(20, 23), '301');
    assert.equal(m1.slice(42, 50), '11234567');
    assert.equal(m1.slice(80, 90), '0000000300');
    // ｻ is 0xBB in Shift_JIS
    assert.equal(file[122 + 50], 0xbb);
    assert.equal(records[3]!.slice(0, 19), '8000002000000000350');
    assert.equal(records[4]!.trimEnd(), '9');
  });

  it('settlement over HTTP needs the admin scope', async () => {
    const res = await send(
      `${f.t.url}/api/points/admin/settlements?currency=saijo-lsp&from=${APRIL.from}&to=${APRIL.to}`,
      {
        headers: { authorization: 'Bearer staff' },
      },
    );
    assert.equal(res.status, 200);
    assert.equal(res.body.settlements.length, 2);
    const anonymous = await send(
      `${f.t.url}/api/points/admin/settlements?currency=saijo-lsp&from=${APRIL.from}&to=${APRIL.to}`,
    );
    assert.equal(anonymous.status, 401);
  });
});

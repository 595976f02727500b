/**
 * Card readers end to end: signed touches from facility terminals (city ID or JPKI serial), visits
 * per facility kind, guardian notices, bus discounts, shelter rosters, points, replays and refusals.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type CardReaderServices,
  cardReadersAdapterWith,
  type GuardianNotifier,
  signTouch,
} from '../../../adapters/card_readers/index.ts';
import { type AdaptersServices, adaptersModule } from '../../../adapters/index.ts';
import { createCoreModule } from '../../../core/index.ts';
import { createIdpModule, type IdpServices } from '../../../idp/index.ts';
import { type PointsService, pointsModule } from '../../../points/index.ts';
import { send } from '../../support/http.ts';
import { startTestPlatform, staticTokens, type TestPlatform } from '../../support/platform.ts';

const clock = { now: new Date('2026-11-23T23:30:00Z') }; // 08:30 JST on the 24th
const STAFF = { authorization: 'Bearer staff' };
const pushed: Array<Parameters<GuardianNotifier['notify']>[0]> = [];
const notifier: GuardianNotifier = {
  async notify(notice) {
    pushed.push(notice);
  },
};

describe('card-reader adapter', () => {
  let t: TestPlatform;
  let cards: CardReaderServices;
  let adapters: AdaptersServices;
  let points: PointsService;
  const people: Record<'child' | 'guardian' | 'elder' | 'adult' | 'jpki', string> = {
    child: '',
    guardian: '',
    elder: '',
    adult: '',
    jpki: '',
  };
  const cityIds: Record<string, string> = {};
  const secrets: Record<string, string> = {};
  let touchNo = 0;

  const staff = (method: string, path: string, body?: unknown) =>
    send(`${t.url}/api/admin/adapters/card-readers${path}`, { method, headers: STAFF, body });
  const touch = async (
    terminal: string,
    body: Record<string, unknown>,
    options: {
      secret?: string;
      timestamp?: number;
      raw?: string;
      headers?: Record<string, string>;
      path?: string;
    } = {},
  ) => {
    const raw = options.raw ?? JSON.stringify(body);
    const ts = options.timestamp ?? Math.floor(clock.now.getTime() / 1000);
    return send(`${t.url}/api/adapters/card-readers/v1/${options.path ?? 'touches'}`, {
      method: 'POST',
      raw,
      headers: {
        'content-type': 'application/json',
        'x-terminal-id': terminal,
        'x-terminal-timestamp': String(ts),
        'x-terminal-signature': signTouch(options.secret ?? secrets[terminal] ?? 'x', ts, raw),
        ...options.headers,
      },
    });
  };
  const card = (who: keyof typeof people) =>
    who === 'jpki'
      ? { type: 'jpki-auth-serial', value: '00a1b2c3d4' }
      : { type: 'city-id', value: cityIds[who] };
  const body = (facility: string, who: keyof typeof people, extra: Record<string, unknown> = {}) => ({
    touchId: `t-${++touchNo}`,
    facility,
    card: card(who),
    at: clock.now.toISOString(),
    ...extra,
  });
  const count = async (table: string) =>
    Number((await t.platform.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
  const state = async () => ({
    visits: await count('adapters.card_visit'),
    notices: await count('adapters.card_notice'),
    presence: await count('adapters.card_shelter_presence'),
    inbox: await count('adapters.inbox'),
  });

  before(async () => {
    t = await startTestPlatform({
      now: () => clock.now,
      tokenVerifier: staticTokens({
        staff: { subject: 'staff-9', clientId: 'console', scopes: ['adapters:admin'] },
      }),
      modules: [
        createCoreModule,
        createIdpModule,
        pointsModule(),
        adaptersModule({
          adapters: [cardReadersAdapterWith({ notifier })],
          env: { ADAPTERS_OUTBOX_POLL_MS: '0' },
        }),
      ],
    });
    adapters = t.platform.services['adapters'] as AdaptersServices;
    cards = adapters.adapters['card_readers'] as CardReaderServices;
    points = t.platform.services['points'] as PointsService;
    const idp = t.platform.services['idp'] as IdpServices;
    const profile = (name: string) => ({
      name,
      birthdate: '1950-01-01',
      gender: 'female',
      address: '高知県宿毛市',
      evidence: { issuer: 'test', serial: '1', verifiedAt: clock.now.toISOString() },
    });
    for (const [who, name] of Object.entries({
      child: '宿毛 ゆい',
      guardian: '宿毛 花子',
      elder: '山田 トメ',
      adult: '平田 一郎',
      jpki: '沖ノ島 太郎',
    }))
      people[who as keyof typeof people] = await t.platform.db.transaction((tx) =>
        idp.accounts.create(tx, 'test', profile(name)),
      );
    // The JPKI user-authentication certificate the card carries, as enrolment at the idp records it.
    await t.platform.db.query(
      `INSERT INTO idp.evidence (common_id, kind, issuer, serial, not_after, status, verified_at)
       VALUES ($1, 'jpki-auth', 'CN=JPKI test CA', 'A1B2C3D4', '2030-01-01', 'active', now())`,
      [people.jpki],
    );

    const facilities = [
      ['kibou-nursery', 'nursery', 'きぼうが丘保育園'],
      ['bus-line-1', 'bus', 'コミュニティバス 1号線'],
      ['gym-sogo', 'gym', '総合運動ジム'],
      ['shelter-chuo', 'shelter', '中央避難所'],
      ['shelter-higashi', 'shelter', '東部避難所'],
    ] as const;
    for (const [code, kind, name] of facilities) {
      const res = await staff('PUT', `/facilities/${code}`, {
        kind,
        name,
        municipality: 'sukumo',
        capacity: 100,
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
    for (const [id, facility] of [
      ['kibou-1', 'kibou-nursery'],
      ['bus-1', 'bus-line-1'],
      ['gym-1', 'gym-sogo'],
      ['chuo-1', 'shelter-chuo'],
      ['higashi-1', 'shelter-higashi'],
    ]) {
      const res = await staff('POST', '/terminals', { id, facility });
      assert.equal(res.status, 201);
      secrets[id!] = res.body.secret;
    }
    for (const who of ['child', 'guardian', 'elder', 'adult'] as const) {
      const res = await staff('POST', '/city-ids', { resident: people[who] });
      assert.match(res.body.cityId, /^TSG-[0-9A-Z]{8}-[0-9A-Z]{8}$/);
      cityIds[who] = res.body.cityId;
    }
    assert.equal(
      (await staff('PUT', '/guardians', { child: people.child, guardian: people.guardian, label: 'ゆい' }))
        .status,
      204,
    );
    assert.equal(
      (
        await staff('PUT', '/bus-eligibility', {
          resident: people.elder,
          category: 'elderly',
          validFrom: '2026-04-01',
          validUntil: '2027-03-31',
        })
      ).status,
      204,
    );
    await points.createCurrency(
      { code: 'sukumo-pt', municipality: 'sukumo', name: 'すくもポイント' },
      'staff:setup',
    );
    await points.createPointType(
      { currency: 'sukumo-pt', code: 'health', name: '健康活動', issuer: 'sukumo-city' },
      'staff:setup',
    );
    await points.createPool({ currency: 'sukumo-pt', pool: 'city' }, 'staff:setup');
    await points.fundPool({
      currency: 'sukumo-pt',
      pool: 'city',
      amount: 10_000,
      idempotency: { scope: 't', key: 'fund' },
      actor: 'staff:setup',
    });
    const rule = await staff('PUT', '/rules/gym/entry', {
      points: 10,
      currency: 'sukumo-pt',
      pool: 'city',
      pointType: 'health',
    });
    assert.equal(rule.status, 200, JSON.stringify(rule.body));
  });
  after(() => t.stop());

  it('nursery: arrival then departure toggle, notices reach the guardian (feed and push)', async () => {
    const arrival = await touch('kibou-1', body('kibou-nursery', 'child'));
    assert.equal(arrival.status, 201);
    assert.deepEqual(
      [arrival.body.kind, arrival.body.action, arrival.body.points, arrival.body.message],
      ['nursery', 'arrival', 0, { ja: '登園しました', en: 'Arrived' }],
    );
    clock.now = new Date(clock.now.getTime() + 8 * 3_600_000); // 16:30 JST
    const departure = await touch('kibou-1', body('kibou-nursery', 'child'));
    assert.equal(departure.body.action, 'departure');
    await adapters.kit.outbox.runOnce();
    assert.deepEqual(
      pushed.map((p) => [p.guardian, p.childLabel, p.action, p.text.ja]),
      [
        [people.guardian, 'ゆい', 'arrival', 'ゆいさんが08:30にきぼうが丘保育園を登園しました。'],
        [people.guardian, 'ゆい', 'departure', 'ゆいさんが16:30にきぼうが丘保育園を降園しました。'],
      ],
    );
    const feed = await cards.guardianNotices(people.guardian, `resident:${people.guardian}`);
    assert.deepEqual(
      feed.items.map((n) => [n.child, n.facilityName, n.action]),
      [
        ['ゆい', 'きぼうが丘保育園', 'departure'],
        ['ゆい', 'きぼうが丘保育園', 'arrival'],
      ],
    );
  });

  it('a replayed touch changes nothing; the same touch id with another body is refused', async () => {
    const first = body('kibou-nursery', 'child', { action: 'arrival' });
    assert.equal((await touch('kibou-1', first)).status, 201);
    await adapters.kit.outbox.runOnce();
    const before = { ...(await state()), pushed: pushed.length };
    const replay = await touch('kibou-1', first);
    assert.equal(replay.status, 200);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.equal(replay.body.action, 'arrival');
    const other = await touch('kibou-1', { ...first, action: 'departure' });
    assert.deepEqual([other.status, other.body.code], [422, 'idempotency-key-reused']);
    await adapters.kit.outbox.runOnce();
    assert.deepEqual({ ...(await state()), pushed: pushed.length }, before);
  });

  it('the same touch sent five times at once is recorded once', async () => {
    const before = await state();
    const same = body('bus-line-1', 'adult');
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => touch('bus-1', same)));
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 200, 200, 200, 201]);
    assert.equal(new Set(answers.map((a) => a.body.visitId)).size, 1);
    const after = await state();
    assert.deepEqual([after.visits - before.visits, after.inbox - before.inbox], [1, 1]);
  });

  it('gym: a JPKI serial identifies the resident; points once per JST day by the rule', async () => {
    const first = await touch('gym-1', body('gym-sogo', 'jpki'));
    assert.deepEqual([first.status, first.body.action, first.body.points], [201, 'entry', 10]);
    assert.equal(first.body.message.ja, 'ご利用ありがとうございます 10ポイント付与');
    const again = await touch('gym-1', body('gym-sogo', 'jpki'));
    assert.deepEqual([again.status, again.body.points], [201, 0]);
    assert.equal((await points.balance({ currency: 'sukumo-pt', holder: people.jpki })).balance, 10);
  });

  it('community bus: the fare-discount check answers per resident', async () => {
    const elder = await touch('bus-1', body('bus-line-1', 'elder'));
    assert.deepEqual(
      [elder.body.action, elder.body.discount, elder.body.message.ja],
      ['ride', 'elderly', '運賃減免の対象です'],
    );
    const adult = await touch('bus-1', body('bus-line-1', 'adult'));
    assert.deepEqual([adult.body.discount, adult.body.message.en], [null, 'No fare discount']);
  });

  it('shelters: check-in/out keep a live roster per shelter; moving shelters closes the first stay', async () => {
    for (const who of ['elder', 'adult'] as const)
      assert.equal((await touch('chuo-1', body('shelter-chuo', who))).body.action, 'check-in');
    let roster = await staff('GET', '/shelters/shelter-chuo/roster');
    assert.deepEqual(
      roster.body.items.map((i: { name: string }) => i.name),
      ['山田 トメ', '平田 一郎'],
    );
    const moved = await touch('higashi-1', body('shelter-higashi', 'elder'));
    assert.equal(moved.body.action, 'check-in');
    roster = await staff('GET', '/shelters/shelter-chuo/roster');
    assert.deepEqual(
      roster.body.items.map((i: { name: string }) => i.name),
      ['平田 一郎'],
    );
    const out = await touch('chuo-1', body('shelter-chuo', 'adult'));
    assert.equal(out.body.action, 'check-out');
    const summary = await staff('GET', '/shelters');
    assert.deepEqual(
      summary.body.items.map((s: { code: string; present: number }) => [s.code, s.present]),
      [
        ['shelter-chuo', 0],
        ['shelter-higashi', 1],
      ],
    );
    const before = await state();
    const stray = await touch('chuo-1', body('shelter-chuo', 'adult', { action: 'check-out' }));
    assert.deepEqual([stray.status, stray.body.code], [422, 'touch-invalid']);
    assert.deepEqual(await state(), before);
    assert.equal(await count(`core.audit_log WHERE action = 'adapters.card-readers.roster.read'`), 2);
  });

  it('refuses bad credentials, revoked terminals, foreign facilities, malformed bodies and unknown cards — changing nothing', async () => {
    const before = await state();
    const good = () => body('gym-sogo', 'adult');
    const cases: Array<[Promise<{ status: number; body: { code: string } }>, number, string]> = [
      [touch('gym-1', good(), { headers: { 'x-terminal-signature': '' } }), 401, 'terminal-unauthorized'],
      [touch('nope-9', good(), { secret: secrets['gym-1']! }), 401, 'terminal-unauthorized'],
      [touch('gym-1', good(), { secret: secrets['bus-1']! }), 401, 'terminal-unauthorized'],
      [
        touch('gym-1', good(), { timestamp: Math.floor(clock.now.getTime() / 1000) - 600 }),
        401,
        'terminal-unauthorized',
      ],
      [touch('gym-1', body('kibou-nursery', 'child')), 403, 'terminal-facility-mismatch'],
      [touch('gym-1', {}, { raw: '{"touchId": "x",' }), 400, 'payload-malformed'],
      [touch('gym-1', { ...good(), extra: true }), 400, 'payload-malformed'],
      [
        touch('gym-1', { ...good(), card: { type: 'city-id', value: 'TSG-00000000-00000000' } }),
        422,
        'card-unknown',
      ],
      [touch('gym-1', { ...good(), card: { type: 'jpki-auth-serial', value: 'FFFF' } }), 422, 'card-unknown'],
      [touch('gym-1', { ...good(), action: 'arrival' }), 422, 'touch-invalid'],
      [touch('gym-1', { ...good(), at: '2026-11-01T00:00:00Z' }), 422, 'touch-invalid'],
    ];
    for (const [pending, status, code] of cases) {
      const res = await pending;
      assert.deepEqual([res.status, res.body.code], [status, code]);
    }
    assert.equal((await staff('POST', '/terminals/gym-1/revoke')).status, 204);
    const revoked = await touch('gym-1', good());
    assert.deepEqual([revoked.status, revoked.body.code], [401, 'terminal-revoked']);
    assert.deepEqual(await state(), before);
    const audit = await t.platform.db.query(
      `SELECT actor, action FROM core.audit_log WHERE target = 'adapters.card-terminal:gym-1' ORDER BY seq`,
    );
    assert.deepEqual(
      audit.rows.map((r) => [r.actor, r.action]),
      [
        ['staff:staff-9', 'adapters.card-readers.terminal.register'],
        ['staff:staff-9', 'adapters.card-readers.terminal.revoke'],
        ['terminal:gym-1', 'adapters.card-readers.terminal.refused'],
      ],
    );
    const terminals = await staff('GET', '/terminals');
    assert.ok(terminals.body.items.find((x: { id: string }) => x.id === 'gym-1').revokedAt);
    assert.equal(JSON.stringify(terminals.body).includes(secrets['gym-1']!), false);
  });

  it('residents see their own visits; staff see aggregates and a facility day', async () => {
    const mine = await cards.visits(people.elder, `resident:${people.elder}`);
    assert.deepEqual(
      mine.items.map((v) => [v.name, v.action]),
      [
        ['東部避難所', 'check-in'],
        ['中央避難所', 'check-in'],
        ['コミュニティバス 1号線', 'ride'],
      ],
    );
    const agg = await staff('GET', '/aggregates?from=2026-11-24&to=2026-11-24');
    assert.deepEqual(
      agg.body.items
        .filter((i: { facility: string }) => i.facility === 'kibou-nursery')
        .map((i: { action: string; touches: number; residents: number }) => [
          i.action,
          i.touches,
          i.residents,
        ]),
      [
        ['arrival', 2, 1],
        ['departure', 1, 1],
      ],
    );
    const day = await staff('GET', '/facilities/kibou-nursery/days/2026-11-24');
    assert.deepEqual(
      day.body.items.map((i: { name: string; action: string }) => [i.name, i.action]),
      [
        ['宿毛 ゆい', 'arrival'],
        ['宿毛 ゆい', 'departure'],
        ['宿毛 ゆい', 'arrival'],
      ],
    );
  });
  it('a registration desk gets a city ID for a JPKI card, once per request; the card then works by city ID', async () => {
    await staff('PUT', '/facilities/city-hall-desk', {
      kind: 'registration',
      name: '市役所 窓口',
      municipality: 'sukumo',
    });
    const desk = await staff('POST', '/terminals', { id: 'desk-1', facility: 'city-hall-desk' });
    secrets['desk-1'] = desk.body.secret;
    const request = { requestId: 'desk-1-0001', card: { type: 'jpki-auth-serial', value: 'A1B2C3D4' } };
    const issued = await touch('desk-1', request, { path: 'city-ids' });
    assert.equal(issued.status, 201);
    assert.equal(issued.headers.get('cache-control'), 'no-store');
    const again = await touch('desk-1', request, { path: 'city-ids' });
    assert.deepEqual([again.status, again.body.cityId], [200, issued.body.cityId]);
    const other = await touch(
      'desk-1',
      { ...request, card: { type: 'jpki-auth-serial', value: 'FF' } },
      { path: 'city-ids' },
    );
    assert.deepEqual([other.status, other.body.code], [422, 'card-unknown']);
    const notDesk = await touch('bus-1', { ...request, requestId: 'bus-x' }, { path: 'city-ids' });
    assert.deepEqual([notDesk.status, notDesk.body.code], [403, 'terminal-facility-mismatch']);
    const ride = await touch('bus-1', {
      touchId: 't-desk-ride',
      facility: 'bus-line-1',
      card: { type: 'city-id', value: issued.body.cityId },
      at: clock.now.toISOString(),
    });
    assert.deepEqual([ride.status, ride.body.action], [201, 'ride']);
    const visits = await cards.visits(people.jpki, 'test');
    assert.equal(visits.items[0]!.kind, 'bus');
  });
});

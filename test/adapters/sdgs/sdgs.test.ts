/** SDGs site adapter: activity events → points by rule → SDGs meter per resident and per city per goal. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adaptersModule } from '../../../adapters/index.ts';
import { type SdgsServices, sdgsAdapter } from '../../../adapters/sdgs/index.ts';
import { createCoreModule } from '../../../core/index.ts';
import { createIdpModule, type IdpServices } from '../../../idp/index.ts';
import { type PointsService, pointsModule } from '../../../points/index.ts';
import { send } from '../../support/http.ts';
import { startTestPlatform, staticTokens, type TestPlatform } from '../../support/platform.ts';

const NOW = new Date('2026-11-23T03:00:00Z'); // 12:00 JST
const SITE = 'sdgs-site';
const TOKENS = {
  site: { clientId: SITE, scopes: ['sdgs:activities'] },
  other: { clientId: 'other-partner', scopes: ['points:read'] },
  staff: { subject: 'staff-1', clientId: 'console', scopes: ['adapters:admin'] },
};
const auth = (token: keyof typeof TOKENS) => ({ authorization: `Bearer ${token}` });

describe('SDGs site adapter', () => {
  let t: TestPlatform;
  let points: PointsService;
  let sdgs: SdgsServices;
  let resident: string;
  let subject: string;
  let other: string;

  const post = (body: unknown, headers: Record<string, string> = auth('site')) =>
    send(`${t.url}/api/adapters/sdgs/v1/activities`, { method: 'POST', headers, body });
  const event = (over: Record<string, unknown> = {}) => ({
    eventId: 'sdgs-evt-0001',
    subject,
    activity: 'beach-cleanup',
    goals: [14, 12],
    amount: 2,
    occurredAt: '2026-11-22T23:30:00Z', // 08:30 JST on the 23rd
    ...over,
  });
  const balance = async (who = resident) =>
    (await points.balance({ currency: 'saijo-lsp', holder: who })).balance;
  const count = async (table: string) =>
    Number((await t.platform.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
  const state = async () => ({
    balance: await balance(),
    meter: (await sdgs.meter(resident, 'test')).total,
    city: (await sdgs.cityMeter('saijo')).total,
    inbox: await count('adapters.inbox'),
    activities: await count('adapters.sdgs_activity'),
  });
  const putRule = (activity: string, body: Record<string, unknown>) =>
    send(`${t.url}/api/admin/adapters/sdgs/rules/${activity}`, {
      method: 'PUT',
      headers: auth('staff'),
      body,
    });

  before(async () => {
    t = await startTestPlatform({
      tokenVerifier: staticTokens(TOKENS),
      now: () => NOW,
      modules: [
        createCoreModule,
        createIdpModule,
        pointsModule(),
        adaptersModule({ adapters: [sdgsAdapter], env: { ADAPTERS_OUTBOX_POLL_MS: '0' } }),
      ],
    });
    points = t.platform.services['points'] as PointsService;
    sdgs = (t.platform.services['adapters'] as { adapters: Record<string, unknown> }).adapters[
      'sdgs'
    ] as SdgsServices;
    const idp = t.platform.services['idp'] as IdpServices;
    resident = await t.platform.db.transaction((tx) => idp.accounts.create(tx, 'test', null));
    other = await t.platform.db.transaction((tx) => idp.accounts.create(tx, 'test', null));
    subject = await idp.accounts.pairwiseSubject(resident, SITE);
    const staff = 'staff:setup';
    await points.createCurrency(
      { code: 'saijo-lsp', municipality: 'saijo', name: 'LOVESAIJO ポイント' },
      staff,
    );
    await points.createPointType(
      { currency: 'saijo-lsp', code: 'sdgs', name: 'SDGs活動', validityDays: 365, issuer: 'saijo-city' },
      staff,
    );
    for (const [pool, amount] of [
      ['sdgs-site', 100_000],
      ['tiny', 10],
    ] as const) {
      await points.createPool({ currency: 'saijo-lsp', pool }, staff);
      await points.fundPool({
        currency: 'saijo-lsp',
        pool,
        amount,
        idempotency: { scope: 't', key: pool },
        actor: staff,
      });
    }
    const base = { municipality: 'saijo', currency: 'saijo-lsp', pool: 'sdgs-site', pointType: 'sdgs' };
    const rules = [
      [
        'beach-cleanup',
        {
          ...base,
          name: '海岸清掃',
          goals: [12, 14, 15],
          pointsPerUnit: 50,
          maxPointsPerEvent: 200,
          dailyCap: 300,
        },
      ],
      ['food-drive', { ...base, name: 'フードドライブ', goals: [1, 2], pointsPerUnit: 10 }],
      ['tree-planting', { ...base, pool: 'tiny', name: '植樹', goals: [13, 15], pointsPerUnit: 100 }],
    ] as const;
    for (const [activity, body] of rules) assert.equal((await putRule(activity, body)).status, 200);
  });
  after(() => t.stop());

  it('grants points by the activity rule and moves the meter of the resident and the city per goal', async () => {
    const res = await post(event(), { ...auth('site'), 'idempotency-key': 'sdgs-evt-0001' });
    assert.equal(res.status, 201);
    assert.deepEqual(
      { ...res.body, journalId: typeof res.body.journalId },
      {
        eventId: 'sdgs-evt-0001',
        activity: 'beach-cleanup',
        goals: [12, 14],
        points: 100,
        journalId: 'string',
        limitedBy: null,
      },
    );
    assert.equal(await balance(), 100);
    const meter = await sdgs.meter(resident, `resident:${resident}`);
    assert.equal(meter.goals.length, 17);
    assert.deepEqual(
      meter.goals.filter((g) => g.points > 0),
      [
        {
          goal: 12,
          ja: 'つくる責任 つかう責任',
          en: 'Responsible consumption and production',
          points: 100,
          activities: 1,
        },
        { goal: 14, ja: '海の豊かさを守ろう', en: 'Life below water', points: 100, activities: 1 },
      ],
    );
    assert.deepEqual(meter.total, { points: 200, activities: 2 });
    const city = await send(`${t.url}/api/admin/adapters/sdgs/meter/saijo`, { headers: auth('staff') });
    assert.equal(city.status, 200);
    assert.deepEqual(
      city.body.goals
        .filter((g: { points: number }) => g.points > 0)
        .map((g: { goal: number; points: number }) => [g.goal, g.points]),
      [
        [12, 100],
        [14, 100],
      ],
    );
    const history = await points.history({ currency: 'saijo-lsp', holder: resident });
    assert.deepEqual(
      history.items.map((i) => [i.kind, i.amount]),
      [['grant', 100]],
    );
  });

  it('a replayed event changes nothing and answers the first outcome', async () => {
    const before = await state();
    const first = await post(event());
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('idempotent-replayed'), 'true');
    assert.equal(first.body.points, 100);
    assert.deepEqual(await state(), before);
    const changed = await post(event({ amount: 3 }));
    assert.equal(changed.status, 422);
    assert.equal(changed.body.code, 'idempotency-key-reused');
    assert.deepEqual(await state(), before);
  });

  it('the same event sent five times at once grants once', async () => {
    const before = await state();
    const same = event({ eventId: 'sdgs-evt-race', activity: 'food-drive', goals: [2], amount: 1 });
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => post(same)));
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 200, 200, 200, 201]);
    assert.equal(new Set(answers.map((a) => a.body.journalId)).size, 1);
    const after = await state();
    assert.deepEqual([after.balance - before.balance, after.activities - before.activities], [10, 1]);
  });

  it('caps points per event and per JST day; the meter still counts the activity', async () => {
    const big = await post(event({ eventId: 'sdgs-evt-0002', amount: 10, goals: [15] })); // 500 → 200 per event
    assert.deepEqual([big.status, big.body.points, big.body.limitedBy], [201, 200, null]);
    const capped = await post(event({ eventId: 'sdgs-evt-0003', amount: 1.5, goals: [15] })); // 75 → 0 left today
    assert.deepEqual([capped.status, capped.body.points, capped.body.limitedBy], [201, 0, 'daily-cap']);
    const nextDay = await post(
      event({ eventId: 'sdgs-evt-0004', amount: 0.25, goals: [15], occurredAt: '2026-11-21T14:59:00Z' }), // 23:59 JST 21st
    );
    assert.deepEqual([nextDay.status, nextDay.body.points], [201, 12]);
    assert.equal(await balance(), 322);
    const meter = await sdgs.meter(resident, 'test');
    assert.deepEqual(
      meter.goals.find((g) => g.goal === 15),
      {
        goal: 15,
        ja: '陸の豊かさも守ろう',
        en: 'Life on land',
        points: 212,
        activities: 3,
      },
    );
  });

  it('an exhausted pool records the activity with no points', async () => {
    const res = await post(
      event({ eventId: 'sdgs-evt-0005', activity: 'tree-planting', goals: [13], amount: 1 }),
    );
    assert.deepEqual(
      [res.status, res.body.points, res.body.limitedBy, res.body.journalId],
      [201, 0, 'pool-exhausted', null],
    );
    assert.equal(await balance(), 322);
    assert.equal((await sdgs.meter(resident, 'test')).goals.find((g) => g.goal === 13)!.activities, 1);
  });

  it('refuses malformed events, unknown activities, goals and subjects, and bad tokens — changing nothing', async () => {
    const before = await state();
    const cases: Array<[unknown, Record<string, string>, number, string]> = [
      [{ ...event({ eventId: 'x1' }), goals: undefined }, auth('site'), 400, 'validation-failed'],
      [event({ eventId: 'x2', goals: [18] }), auth('site'), 400, 'validation-failed'],
      [event({ eventId: 'x3', amount: -1 }), auth('site'), 400, 'validation-failed'],
      [event({ eventId: 'x4', extra: 1 }), auth('site'), 400, 'validation-failed'],
      [event({ eventId: 'x5', occurredAt: 'yesterday' }), auth('site'), 400, 'validation-failed'],
      [event({ eventId: 'x6', activity: 'moon-landing' }), auth('site'), 422, 'sdgs-unknown-activity'],
      [event({ eventId: 'x7', goals: [3] }), auth('site'), 422, 'sdgs-activity-invalid'],
      [event({ eventId: 'x8', goals: [14, 14] }), auth('site'), 422, 'sdgs-activity-invalid'],
      [
        event({ eventId: 'x9', occurredAt: '2026-11-24T03:00:00Z' }),
        auth('site'),
        422,
        'sdgs-activity-invalid',
      ],
      [event({ eventId: 'x10', subject: 'not-a-subject' }), auth('site'), 422, 'sdgs-unknown-resident'],
      [event({ eventId: 'x11' }), { ...auth('site'), 'idempotency-key': 'other' }, 400, 'validation-failed'],
      [event({ eventId: 'x12' }), {}, 401, 'unauthorized'],
      [event({ eventId: 'x13' }), { authorization: 'Bearer nope' }, 401, 'invalid-token'],
      [event({ eventId: 'x14' }), auth('other'), 403, 'insufficient-scope'],
    ];
    for (const [body, headers, status, code] of cases) {
      const res = await post(body, headers);
      assert.deepEqual([res.status, res.body.code], [status, code], JSON.stringify(body));
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
    }
    const broken = await send(`${t.url}/api/adapters/sdgs/v1/activities`, {
      method: 'POST',
      headers: { ...auth('site'), 'content-type': 'application/json' },
      raw: '{"eventId": ',
    });
    assert.deepEqual([broken.status, broken.body.code], [400, 'malformed-json']);
    assert.deepEqual(await state(), before);
    assert.equal(await balance(other), 0);
  });

  it('staff manage rules (audited); bad rules are refused', async () => {
    const list = await send(`${t.url}/api/admin/adapters/sdgs/rules`, { headers: auth('staff') });
    assert.deepEqual(
      list.body.items.map((r: { activity: string }) => r.activity),
      ['beach-cleanup', 'food-drive', 'tree-planting'],
    );
    const bad = await putRule('food-drive', {
      name: 'x',
      municipality: 'saijo',
      goals: [0],
      currency: 'saijo-lsp',
      pool: 'p',
      pointType: 'sdgs',
      pointsPerUnit: 1,
    });
    assert.deepEqual([bad.status, bad.body.code], [400, 'validation-failed']);
    const unknown = await putRule('food-drive', {
      name: 'x',
      municipality: 'saijo',
      goals: [1],
      currency: 'nope',
      pool: 'p',
      pointType: 'sdgs',
      pointsPerUnit: 1,
    });
    assert.deepEqual([unknown.status, unknown.body.code], [404, 'unknown-currency']);
    const denied = await send(`${t.url}/api/admin/adapters/sdgs/rules`, { headers: auth('site') });
    assert.equal(denied.status, 403);
    const off = await putRule('food-drive', {
      name: 'フードドライブ',
      municipality: 'saijo',
      goals: [1, 2],
      currency: 'saijo-lsp',
      pool: 'sdgs-site',
      pointType: 'sdgs',
      pointsPerUnit: 10,
      active: false,
    });
    assert.equal(off.body.active, false);
    const refused = await post(event({ eventId: 'sdgs-evt-0006', activity: 'food-drive', goals: [2] }));
    assert.deepEqual([refused.status, refused.body.code], [422, 'sdgs-unknown-activity']);
    const { rows } = await t.platform.db.query(
      `SELECT actor, details FROM core.audit_log WHERE action = 'adapters.sdgs.rule.put' AND target = 'adapters.sdgs-rule:food-drive' ORDER BY seq`,
    );
    assert.deepEqual(
      rows.map((r) => [r.actor, r.details.active]),
      [
        ['staff:staff-1', true],
        ['staff:staff-1', false],
      ],
    );
  });

  it('the resident sees their activities newest first', async () => {
    const items = await sdgs.activities(resident, `resident:${resident}`);
    assert.deepEqual(
      items.map((i) => [i.eventId, i.name, i.points]),
      [
        ['sdgs-evt-0005', '植樹', 0],
        ['sdgs-evt-0003', '海岸清掃', 0],
        ['sdgs-evt-0002', '海岸清掃', 200],
        ['sdgs-evt-race', 'フードドライブ', 10],
        ['sdgs-evt-0001', '海岸清掃', 100],
        ['sdgs-evt-0004', '海岸清掃', 12],
      ],
    );
  });
});

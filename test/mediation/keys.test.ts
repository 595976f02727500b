import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../core/index.ts';
import { createDataKeys, keksFromConfig } from '../../mediation/data_keys.ts';
import { createPersonalData } from '../../mediation/personal_data.ts';
import { BASIC4, type MediationTest, PROFILE, startMediationPlatform } from './support.ts';

const CHIYODA = '131016';
const SAPPORO = '011002';

describe('personal data at rest: per-municipality data keys, rotation without downtime', () => {
  let t: MediationTest;
  const residents: Array<{ id: string; name: string }> = [];

  before(async () => {
    t = await startMediationPlatform({ municipalities: { 東京都千代田区: CHIYODA, 北海道札幌市: SAPPORO } });
    for (let i = 0; i < 24; i++) {
      const name = `住民 ${i}`;
      const address = i % 2 === 0 ? `東京都千代田区永田町${i}` : `北海道札幌市中央区${i}`;
      residents.push({ id: await t.resident({ ...PROFILE, name, address }), name });
    }
  });
  after(() => t.stop());

  const readAll = async () => {
    for (const r of residents) {
      const values = await t.mediation.personalData.get(r.id, BASIC4);
      assert.equal(values.name, r.name);
      assert.equal(Object.keys(values).length, 4);
    }
  };

  it('stores each item sealed under its municipality’s data key (enrolment through idp feeds it)', async () => {
    const { rows } = await t.platform.db.query(
      'SELECT municipality, count(*)::int AS n FROM mediation.personal_data GROUP BY municipality ORDER BY 1',
    );
    assert.deepEqual(rows, [
      { municipality: SAPPORO, n: 48 },
      { municipality: CHIYODA, n: 48 },
    ]);
    const dump = await t.platform.db.query('SELECT sealed FROM mediation.personal_data');
    assert.ok(
      dump.rows.every((r) => !String(r['sealed']).includes('住民') && String(r['sealed']).startsWith('v1.')),
    );
    const keys = await t.platform.db.query('SELECT wrapped FROM mediation.data_keys');
    assert.equal(keys.rows.length, 2);
    await readAll();
  });

  it('a value moved to another resident’s row does not open', async () => {
    const [a, b] = residents;
    await t.platform.db.query(
      `UPDATE mediation.personal_data SET sealed = (SELECT sealed FROM mediation.personal_data WHERE resident = $1 AND item = 'name')
        WHERE resident = $2 AND item = 'name'`,
      [a!.id, b!.id],
    );
    await assert.rejects(t.mediation.personalData.get(b!.id, ['name']));
    await t.platform.db.transaction((tx) =>
      t.mediation.personalData.put(
        { resident: b!.id, municipality: SAPPORO, values: { name: b!.name }, source: 'test' },
        tx,
      ),
    );
  });

  it('rotating a data key keeps every record readable while rows move, in small batches', async () => {
    const version = (await t.mediation.rotateDataKey(CHIYODA, 'staff:test')).version;
    assert.equal(version, 2);
    // New writes use the new key at once.
    const fresh = await t.resident({ ...PROFILE, name: '新規 住民', address: '東京都千代田区1' });
    residents.push({ id: fresh, name: '新規 住民' });
    await readAll();
    let moved = 0;
    for (;;) {
      const n = await t.mediation.personalData.reencrypt(7);
      if (n === 0) break;
      moved += n;
      await readAll(); // readable between every batch
    }
    assert.equal(moved, 48);
    const status = await t.mediation.keyStatus();
    assert.deepEqual(
      status.map((s) => [s.municipality, s.version, s.state, s.rows]),
      [
        [SAPPORO, 1, 'active', 48],
        [CHIYODA, 1, 'retired', 0],
        [CHIYODA, 2, 'active', 52],
      ],
    );
    const audit = await t.platform.db.query(
      `SELECT target FROM core.audit_log WHERE action = 'mediation.keys.rotate'`,
    );
    assert.deepEqual(audit.rows, [{ target: `mediation:data-key:${CHIYODA}` }]);
  });

  it('a new master key re-wraps every data key; records stay readable before, during and after', async () => {
    const oldMaster = (await import('../../core/index.ts')).masterKey(t.platform.config).toString('base64');
    const newMaster = randomBytes(32).toString('base64');
    const config = loadConfig({ ...t.env, MASTER_KEY: newMaster });
    const both = createDataKeys({
      db: t.platform.db,
      keks: keksFromConfig(config, { MEDIATION_PREVIOUS_MASTER_KEYS: oldMaster }),
      now: t.clock.now,
    });
    const store = createPersonalData({ db: t.platform.db, keys: both, now: t.clock.now });
    const check = async (s: typeof store) => {
      for (const r of residents) assert.equal((await s.get(r.id, ['name'])).name, r.name);
    };
    await check(store);
    assert.equal(await both.rewrap(), 3);
    const onlyNew = createDataKeys({ db: t.platform.db, keks: keksFromConfig(config, {}), now: t.clock.now });
    await check(createPersonalData({ db: t.platform.db, keys: onlyNew, now: t.clock.now }));
    const kekIds = await t.platform.db.query('SELECT DISTINCT kek_id FROM mediation.data_keys');
    assert.deepEqual(kekIds.rows, [{ kek_id: onlyNew.kekId }]);
    // The old master key alone no longer opens them.
    const onlyOld = createDataKeys({
      db: t.platform.db,
      keks: keksFromConfig(loadConfig({ ...t.env, MASTER_KEY: oldMaster }), {}),
      now: t.clock.now,
    });
    await assert.rejects(
      createPersonalData({ db: t.platform.db, keys: onlyOld, now: t.clock.now }).get(residents[0]!.id, [
        'name',
      ]),
    );
  });
});

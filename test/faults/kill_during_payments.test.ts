/**
 * kill -9 of the app in the middle of a payment load: every payment the app acknowledged is in the
 * ledger afterwards, and the ledger's invariants hold (balanced currencies, no negative holder, lots
 * matching balances).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import type { PointsService } from '../../points/index.ts';
import { createTestDatabase } from '../support/database.ts';
import { startTestPlatform } from '../support/platform.ts';
import { freePort } from '../support/ports.ts';

const STAFF = 'staff:fault-test';
const RESIDENTS = Array.from({ length: 20 }, (_, i) => `resident-${i}`);

describe('kill -9 during a payment load', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tsunagu-kill-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps every acknowledged payment and a balanced ledger', async () => {
    const databaseUrl = await createTestDatabase('kill');
    const setup = await startTestPlatform({ databaseUrl, dataDir });
    const points = setup.platform.services['points'] as PointsService;
    await points.createCurrency({ code: 'yen-pt', municipality: 'saijo', name: '西条ポイント' }, STAFF);
    await points.createPointType(
      {
        currency: 'yen-pt',
        code: 'event',
        name: 'イベント',
        spendPriority: 10,
        validityDays: null,
        issuer: 'saijo-city',
      },
      STAFF,
    );
    await points.registerMerchant(
      { id: 'shop', municipality: 'saijo', name: '駅前商店', place: 'ekimae' },
      STAFF,
    );
    await points.createPool({ currency: 'yen-pt', pool: 'city' }, STAFF);
    await points.fundPool({
      currency: 'yen-pt',
      pool: 'city',
      amount: 1_000_000,
      idempotency: { scope: 'staff', key: 'fund' },
      actor: STAFF,
    });
    for (const resident of RESIDENTS) {
      await points.grant({
        currency: 'yen-pt',
        pool: 'city',
        resident,
        amount: 10_000,
        pointType: 'event',
        idempotency: { scope: 'staff', key: `grant-${resident}` },
        actor: STAFF,
      });
    }
    await setup.platform.stop();

    const port = await freePort();
    const child = spawn(process.execPath, ['test/faults/points_server.ts'], {
      env: {
        ...process.env,
        ...setup.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        RATE_LIMIT_PER_MINUTE: '1000000',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`server exited before it was ready (${code})`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line.startsWith('ready ')) resolve(line.slice(6));
      });
    });

    const acknowledged: Array<{ journalId: string; amount: number }> = [];
    const statuses = new Map<string, number>();
    let killed = false;
    const worker = async (w: number) => {
      for (let i = 0; !killed; i++) {
        const amount = 1 + ((w + i) % 5);
        try {
          const res = await fetch(`${url}/api/points/v1/payments`, {
            method: 'POST',
            headers: {
              authorization: 'Bearer pos-terminal',
              'content-type': 'application/json',
              'idempotency-key': `w${w}-${i}`,
            },
            body: JSON.stringify({
              currency: 'yen-pt',
              resident: RESIDENTS[(w * 7 + i) % RESIDENTS.length],
              merchant: 'shop',
              amount,
            }),
          });
          const body = (await res.json()) as { journalId?: string; code?: string };
          statuses.set(
            `${res.status} ${body.code ?? ''}`,
            (statuses.get(`${res.status} ${body.code ?? ''}`) ?? 0) + 1,
          );
          if (res.status === 201 && body.journalId) acknowledged.push({ journalId: body.journalId, amount });
        } catch {
          // The connection died with the server: this payment was never acknowledged.
        }
      }
    };
    const workers = Array.from({ length: 8 }, (_, w) => worker(w));
    const deadline = Date.now() + 60_000;
    while (acknowledged.length < 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(
      acknowledged.length >= 200,
      `payments acknowledged before the kill: ${JSON.stringify([...statuses])}`,
    );
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    killed = true;
    await Promise.all(workers);
    await exited;

    const after = await startTestPlatform({ databaseUrl, dataDir });
    try {
      const { rows } = await after.platform.db.query<{ id: string }>(
        'SELECT id::text AS id FROM points.journal WHERE id::text = ANY($1)',
        [acknowledged.map((a) => a.journalId)],
      );
      assert.equal(
        rows.length,
        acknowledged.length,
        `all ${acknowledged.length} acknowledged payments are in the ledger`,
      );
      const inv = await (after.platform.services['points'] as PointsService).invariants();
      assert.deepEqual(
        Object.entries(inv).filter(([, count]) => count !== 0),
        [],
        'no invariant violated',
      );
      const points = after.platform.services['points'] as PointsService;
      const shop = await points.balance({ currency: 'yen-pt', kind: 'merchant', holder: 'shop' });
      const paid = acknowledged.reduce((sum, a) => sum + a.amount, 0);
      assert.ok(
        shop.balance >= paid,
        `the merchant holds at least every acknowledged amount (${shop.balance} ≥ ${paid})`,
      );
      const residents = await Promise.all(
        RESIDENTS.map((holder) => points.balance({ currency: 'yen-pt', holder })),
      );
      assert.equal(
        residents.reduce((sum, r) => sum + r.balance, 0) + shop.balance,
        RESIDENTS.length * 10_000,
        'what left the residents is exactly what the merchant received',
      );
    } finally {
      await after.stop();
    }
  });
});

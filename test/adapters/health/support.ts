/** A platform with core, points and the health adapter on a temporary drop folder. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { adaptersModule, type AdaptersServices } from '../../../adapters/index.ts';
import {
  type FolderPoller,
  healthAdapter,
  type HealthAccounts,
  type Importer,
} from '../../../adapters/health/index.ts';
import { createCoreModule } from '../../../core/index.ts';
import { createPointsModule, type PointsService } from '../../../points/index.ts';
import { startTestPlatform, staticTokens, type TestPlatform } from '../../support/platform.ts';

export const CURRENCY = 'saijo-lsp';

export interface HealthTest {
  t: TestPlatform;
  dir: string;
  points: PointsService;
  importer: Importer;
  accounts: HealthAccounts;
  poller: FolderPoller;
  balance(commonId: string): Promise<number>;
  stop(): Promise<void>;
}

export async function startHealth(options: { pool?: number; rate?: string } = {}): Promise<HealthTest> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsunagu-health-'));
  const t = await startTestPlatform({
    tokenVerifier: staticTokens({
      staff: { subject: 'st-1', clientId: 'console', scopes: ['adapters:admin'] },
      other: { subject: 'st-2', clientId: 'console', scopes: ['points:admin'] },
    }),
    modules: [
      createCoreModule,
      createPointsModule,
      adaptersModule({
        env: {
          HEALTH_IMPORT_DIR: dir,
          HEALTH_POLL_MS: '0',
          HEALTH_SETTLE_MS: '0',
          HEALTH_CURRENCY: CURRENCY,
          HEALTH_POOL: 'health',
          HEALTH_POINT_TYPE: 'health',
          HEALTH_RATE: options.rate ?? '100:1',
        },
        adapters: [healthAdapter],
      }),
    ],
  });
  const points = t.platform.services['points'] as PointsService;
  await points.createCurrency(
    { code: CURRENCY, municipality: 'saijo', name: 'LOVESAIJO ポイント' },
    'staff:t',
  );
  await points.createPointType(
    { currency: CURRENCY, code: 'health', name: '健康', validityDays: 365, issuer: 'saijo-city' },
    'staff:t',
  );
  await points.createPool({ currency: CURRENCY, pool: 'health' }, 'staff:t');
  await points.fundPool({
    currency: CURRENCY,
    pool: 'health',
    amount: options.pool ?? 10_000_000,
    idempotency: { scope: 'test', key: 'fund' },
    actor: 'staff:t',
  });
  const health = (t.platform.services['adapters'] as AdaptersServices).adapters['health'] as {
    importer: Importer;
    accounts: HealthAccounts;
    poller: FolderPoller;
  };
  return {
    t,
    dir,
    points,
    ...health,
    async balance(commonId) {
      return (await points.balance({ currency: CURRENCY, holder: commonId })).balance;
    },
    async stop() {
      await t.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

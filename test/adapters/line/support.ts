/**
 * A platform with core, points and the LINE adapter pointed at the LINE Platform double, a funded
 * currency, and helpers to link a LINE user the way the account-link flow does.
 */
import { randomBytes } from 'node:crypto';
import type { Response } from 'express';
import { adaptersModule, createAdapterPortsModule, type AdaptersServices } from '../../../adapters/index.ts';
import type { Kit } from '../../../adapters/kit/index.ts';
import { lineAdapter } from '../../../adapters/line/index.ts';
import { createCoreModule, type ModuleFactory } from '../../../core/index.ts';
import { createPointsModule, type PointsService } from '../../../points/index.ts';
import { startTestPlatform, staticTokens, type TestPlatform } from '../../support/platform.ts';
import { LinePlatformDouble } from './line_platform_double.ts';

export const CURRENCY = 'saijo-lsp';
export const MASTER_KEY = randomBytes(32).toString('base64');

export interface LineTest {
  t: TestPlatform;
  line: LinePlatformDouble;
  kit: Kit;
  points: PointsService;
  webhook: string;
  /** Links a LINE user to a resident through the account-link steps (sign-in result → LINE dialog). */
  link(userId: string, commonId: string): Promise<void>;
  grant(commonId: string, amount: number): Promise<void>;
  /** Delivers what the outbox holds now. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export function lineEnv(line: LinePlatformDouble, extra: Record<string, string> = {}) {
  return {
    LINE_CHANNEL_SECRET: line.channelSecret,
    LINE_CHANNEL_ACCESS_TOKEN: line.channelAccessToken,
    LINE_API_BASE_URL: line.url,
    LINE_ACCESS_BASE_URL: line.url,
    LINE_CURRENCIES: CURRENCY,
    ADAPTERS_OUTBOX_POLL_MS: '0',
    ADAPTERS_OUTBOX_BACKOFF_MS: '1',
    ...extra,
  };
}

export async function startLine(
  options: {
    line?: LinePlatformDouble;
    databaseUrl?: string;
    env?: Record<string, string>;
    before?: ModuleFactory[];
  } = {},
): Promise<LineTest> {
  const line = options.line ?? (await new LinePlatformDouble().start());
  const t = await startTestPlatform({
    env: { MASTER_KEY },
    tokenVerifier: staticTokens({
      staff: { subject: 'st-1', clientId: 'console', scopes: ['adapters:admin'] },
    }),
    modules: [
      createCoreModule,
      ...(options.before ?? []),
      createPointsModule,
      adaptersModule({ env: lineEnv(line, options.env), adapters: [lineAdapter] }),
      createAdapterPortsModule,
    ],
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
  });
  line.webhookUrl = `${t.url}/api/adapters/line/webhook`;
  const kit = (t.platform.services['adapters'] as AdaptersServices).kit;
  const points = t.platform.services['points'] as PointsService;
  if (!options.databaseUrl) {
    await points.createCurrency(
      { code: CURRENCY, municipality: 'saijo', name: 'LOVESAIJO ポイント' },
      'staff:t',
    );
    await points.createPointType(
      { currency: CURRENCY, code: 'event', name: 'イベント', validityDays: 180, issuer: 'saijo-city' },
      'staff:t',
    );
    await points.createPool({ currency: CURRENCY, pool: 'city' }, 'staff:t');
    await points.fundPool({
      currency: CURRENCY,
      pool: 'city',
      amount: 1_000_000,
      idempotency: { scope: 'test', key: 'fund' },
      actor: 'staff:t',
    });
  }
  let grants = 0;
  const flush = async () => {
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 5));
      await kit.outbox.runOnce();
    }
  };
  return {
    t,
    line,
    kit,
    points,
    webhook: line.webhookUrl,
    flush,
    async link(userId, commonId) {
      // The resident asked to link: LINE issues a link token for the user (what the bot's reply does).
      const { linkToken } = (await (
        await fetch(`${line.url}/v2/bot/user/${userId}/linkToken`, {
          method: 'POST',
          headers: { authorization: `Bearer ${line.channelAccessToken}` },
        })
      ).json()) as { linkToken: string };
      // The resident signed in through our provider: the kit hands the result to the LINE finisher.
      let location = '';
      const res = {
        redirect(_status: number, url: string) {
          location = url;
        },
      } as unknown as Response;
      await kit.signIn.finisher('line-link')!(
        { commonId, purpose: 'line-link', carry: { linkToken } },
        {} as never,
        res,
      );
      // The browser follows to LINE's dialog; LINE sends the signed accountLink event.
      const dialog = await fetch(location);
      if (dialog.status !== 200) throw new Error(`account-link dialog answered ${dialog.status}`);
      await flush();
    },
    async grant(commonId, amount) {
      grants += 1;
      await points.grant({
        currency: CURRENCY,
        pool: 'city',
        resident: commonId,
        amount,
        pointType: 'event',
        idempotency: { scope: 'test', key: `g-${commonId}-${grants}` },
        actor: 'staff:t',
      });
    },
    async stop() {
      await t.stop();
      if (!options.line) await line.stop();
    },
  };
}

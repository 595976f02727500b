/**
 * LINE adapter: the city's official LINE account as a citizen portal. Webhook with
 * X-Line-Signature, follow/unfollow/message/postback/accountLink events, account linking through
 * LINE's account-link flow (link token + our nonce, after the resident signed in through our
 * OpenID provider), balance and history replies from the points ledger, and points notices pushed
 * through the Messaging API when the resident turned them on. See README.md.
 */
import type { PointsService } from '../../points/index.ts';
import type { AdapterFactory } from '../kit/index.ts';
import { lineOutboxHandlers } from './deliver.ts';
import { createLineMessaging, type LineMessaging } from './messaging_client.ts';
import { lineMigrations } from './migrations.ts';
import { lineNotifier } from './notifier.ts';
import { LINK_PREFIX, linkRouter, webhookRouter } from './routes.ts';
import { lineSettings } from './settings.ts';

export { retryUuid } from './messaging_client.ts';
export type { LineSettings } from './settings.ts';

export const lineAdapter: AdapterFactory = ({ ctx, kit, env }) => {
  const settings = lineSettings(env);
  const users = kit.sealer('line-user');
  let client: LineMessaging | undefined;
  const messaging = () => {
    if (!settings.channelAccessToken) throw new Error('LINE_CHANNEL_ACCESS_TOKEN is not set');
    client ??= createLineMessaging({
      apiBaseUrl: settings.apiBaseUrl,
      channelAccessToken: settings.channelAccessToken,
    });
    return client;
  };
  const points = () => {
    const p = ctx.services['points'] as PointsService | undefined;
    if (!p) throw new Error('the LINE adapter needs the points module');
    return p;
  };
  if (ctx.config.env === 'production' && settings.apiBaseUrl.startsWith('http://'))
    throw new Error('LINE_API_BASE_URL must be https in production');
  if (!settings.channelSecret)
    ctx.logger.info('adapters/line: LINE_CHANNEL_SECRET not set; the webhook answers 503');

  const deps = { kit, users, audit: ctx.audit, now: ctx.now };
  return {
    name: 'line',
    migrations: lineMigrations,
    routers: [webhookRouter(ctx, settings, deps), linkRouter(ctx, settings, kit)],
    outboxHandlers: lineOutboxHandlers({
      messaging,
      points,
      audit: ctx.audit,
      currencies: settings.currencies,
      linkUrl: (token) => `${ctx.config.publicUrl}${LINK_PREFIX}/link?linkToken=${encodeURIComponent(token)}`,
    }),
    pointsPorts: {
      notifier: lineNotifier({ db: ctx.db, kit, users, enabled: () => Boolean(settings.channelAccessToken) }),
    },
    async status() {
      const { rows } = await ctx.db.query<{ followers: string; linked: string; notices: string }>(
        `SELECT count(*) FILTER (WHERE followed)::text AS followers,
                count(*) FILTER (WHERE common_id IS NOT NULL)::text AS linked,
                count(*) FILTER (WHERE notices AND followed AND common_id IS NOT NULL)::text AS notices
           FROM adapters.line_user`,
      );
      return {
        configured: Boolean(settings.channelSecret && settings.channelAccessToken),
        currencies: settings.currencies,
        followers: Number(rows[0]?.followers ?? 0),
        linked: Number(rows[0]?.linked ?? 0),
        noticesOn: Number(rows[0]?.notices ?? 0),
      };
    },
  };
};

/**
 * Card-reader adapter (My Number card as a citizen card, Sukumo 4): facility terminals post card
 * touches — the platform-issued city ID from the card's free area, or the JPKI user-certificate
 * serial — signed with their own secret; visits per facility kind (nursery arrival/departure with
 * notices to guardians, library, community-bus fare discount, gym, meeting hall, evacuation shelter
 * check-in/out with a live roster), points by activity rules, the resident's own history and staff
 * aggregates. See README.md.
 *
 * @example
 *   const cards = (ctx.services['adapters'] as AdaptersServices).adapters['card_readers'] as CardReaderServices;
 *   await cards.shelterRoster('shelter-chuo', 'staff:7');
 */
import type { IdpServices } from '../../idp/index.ts';
import type { PointsService } from '../../points/index.ts';
import { type AdapterFactory, type OutboxHandler, type OutboxMessage, text } from '../kit/index.ts';
import {
  type CardHolders,
  type CardReaderServices,
  createCardService,
  type GuardianNotifier,
  idpCardHolders,
} from './card_service.ts';
import { cardReadersMigrations } from './migrations.ts';
import { cardRouters } from './routes.ts';

export type { CardHolders, CardReaderServices, GuardianNotifier } from './card_service.ts';
export { signTouch } from './verify_terminal.ts';

/** The adapter; `notifier` pushes guardian notices (LINE, an app), `holders` replaces the idp lookups. */
export function cardReadersAdapterWith(
  options: { notifier?: GuardianNotifier; holders?: CardHolders } = {},
): AdapterFactory {
  return ({ ctx, kit, env }) => {
    const sealer = kit.sealer('card-readers');
    const holders = options.holders ?? idpCardHolders(() => ctx.services['idp'] as IdpServices | undefined);
    const cards = createCardService(
      {
        db: ctx.db,
        audit: ctx.audit,
        sealer,
        inbox: kit.inbox,
        kit,
        now: ctx.now,
        holders: () => holders,
        pushNotices: Boolean(options.notifier),
        points: () => {
          const p = ctx.services['points'] as PointsService | undefined;
          if (!p) throw new Error('the card-reader adapter needs the points module');
          return p;
        },
      },
      { cityIdPrefix: text(env, 'CARD_CITY_ID_PREFIX') ?? 'TSG' },
    );
    const { touch: _touch, issueAtDesk: _issue, deliverNotice, ...services } = cards;
    const notifier = options.notifier;
    const outboxHandlers: Record<string, OutboxHandler> = {};
    if (notifier)
      outboxHandlers['guardian-notice'] = (message: OutboxMessage) =>
        deliverNotice(notifier, message.payload as Parameters<typeof deliverNotice>[1]);
    return {
      name: 'card_readers',
      migrations: cardReadersMigrations,
      routers: cardRouters(ctx, cards, { db: ctx.db, audit: ctx.audit, sealer, now: ctx.now }),
      outboxHandlers,
      services: services satisfies CardReaderServices,
      async status() {
        const { rows } = await ctx.db.query<{ active: string; revoked: string; today: string }>(
          `SELECT (SELECT count(*) FROM adapters.card_terminal WHERE revoked_at IS NULL)::text AS active,
                  (SELECT count(*) FROM adapters.card_terminal WHERE revoked_at IS NOT NULL)::text AS revoked,
                  (SELECT count(*) FROM adapters.card_visit WHERE received_at > $1)::text AS today`,
          [new Date(ctx.now().getTime() - 86_400_000)],
        );
        return {
          terminals: Number(rows[0]?.active ?? 0),
          revokedTerminals: Number(rows[0]?.revoked ?? 0),
          touchesLast24h: Number(rows[0]?.today ?? 0),
          guardianPush: Boolean(notifier),
        };
      },
    };
  };
}

export const cardReadersAdapter: AdapterFactory = cardReadersAdapterWith();

/**
 * Per adapter: inbox events in the last 24 hours and the last one, outbox messages by status and the
 * oldest pending one, and the adapter's own figures (`AdapterDefinition.status`). For the staff API
 * and the admin console.
 */
import type { ModuleContext } from '../../core/index.ts';
import type { AdapterDefinition } from './adapter.ts';

export interface AdapterStatus {
  name: string;
  inbox: { last24h: number; lastReceivedAt: string | null };
  outbox: { pending: number; dead: number; done: number; oldestPendingAt: string | null };
  details: Record<string, unknown>;
}

export async function adapterStatus(
  ctx: Pick<ModuleContext, 'db' | 'now'>,
  adapters: readonly AdapterDefinition[],
): Promise<AdapterStatus[]> {
  const { rows: inbox } = await ctx.db.query<{ adapter: string; day: string; last: Date | null }>(
    `SELECT adapter, count(*) FILTER (WHERE received_at > $1)::text AS day, max(received_at) AS last
       FROM adapters.inbox GROUP BY adapter`,
    [new Date(ctx.now().getTime() - 86_400_000)],
  );
  const { rows: outbox } = await ctx.db.query<{
    adapter: string;
    pending: string;
    dead: string;
    done: string;
    oldest: Date | null;
  }>(
    `SELECT adapter, count(*) FILTER (WHERE status = 'pending')::text AS pending,
            count(*) FILTER (WHERE status = 'dead')::text AS dead,
            count(*) FILTER (WHERE status = 'done')::text AS done,
            min(created_at) FILTER (WHERE status = 'pending') AS oldest
       FROM adapters.outbox GROUP BY adapter`,
  );
  return Promise.all(
    adapters.map(async (a) => {
      const i = inbox.find((r) => r.adapter === a.name);
      const o = outbox.find((r) => r.adapter === a.name);
      return {
        name: a.name,
        inbox: { last24h: Number(i?.day ?? 0), lastReceivedAt: i?.last?.toISOString() ?? null },
        outbox: {
          pending: Number(o?.pending ?? 0),
          dead: Number(o?.dead ?? 0),
          done: Number(o?.done ?? 0),
          oldestPendingAt: o?.oldest?.toISOString() ?? null,
        },
        details: (await a.status?.()) ?? {},
      };
    }),
  );
}

/**
 * The oidc-provider storage port over PostgreSQL: one row per stored model instance in
 * `idp.oidc_payloads`, so every instance of the platform sees the same sessions, codes and tokens.
 * The `Client` model is answered from the partner client registry instead (see client_registry.ts).
 *
 * Contract (from oidc-provider's example/my_adapter.js): `upsert` stores with a TTL in seconds;
 * `find`/`findByUid`/`findByUserCode` return nothing once expired; `consume` marks a one-time
 * artefact used but keeps it until it expires (so a replayed code is detected and its grant revoked);
 * `revokeByGrantId` removes everything issued under a grant.
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Database } from '../../core/index.ts';

export type ClientSource = (clientId: string) => Promise<AdapterPayload | undefined>;

interface Row {
  payload: AdapterPayload;
  consumed_at: Date | null;
}

export function createPgAdapterFactory(
  db: Database,
  now: () => Date,
  clients: ClientSource,
): (model: string) => Adapter {
  const select = async (where: string, model: string, value: string): Promise<AdapterPayload | undefined> => {
    const { rows } = await db.query<Row>(
      `SELECT payload, consumed_at FROM idp.oidc_payloads
        WHERE model = $1 AND ${where} = $2 AND (expires_at IS NULL OR expires_at > $3)`,
      [model, value, now()],
    );
    const row = rows[0];
    if (!row) return undefined;
    return row.consumed_at
      ? { ...row.payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) }
      : row.payload;
  };

  return (model) => {
    if (model === 'Client') {
      return {
        find: (id) => clients(id),
        upsert: async () => {
          throw new Error('clients are managed through the partner client registry');
        },
        findByUid: async () => undefined,
        findByUserCode: async () => undefined,
        consume: async () => undefined,
        destroy: async () => undefined,
        revokeByGrantId: async () => undefined,
      };
    }
    return {
      async upsert(id, payload, expiresIn) {
        const expiresAt = expiresIn ? new Date(now().getTime() + expiresIn * 1000) : null;
        await db.query(
          `INSERT INTO idp.oidc_payloads (model, id, payload, grant_id, uid, user_code, client_id, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id,
             uid = EXCLUDED.uid, user_code = EXCLUDED.user_code, client_id = EXCLUDED.client_id,
             expires_at = EXCLUDED.expires_at`,
          [
            model,
            id,
            JSON.stringify(payload),
            payload.grantId ?? null,
            payload.uid ?? null,
            payload.userCode ?? null,
            payload.clientId ?? null,
            expiresAt,
          ],
        );
      },
      find: (id) => select('id', model, id),
      findByUid: (uid) => select('uid', model, uid),
      findByUserCode: (userCode) => select('user_code', model, userCode),
      async consume(id) {
        await db.query('UPDATE idp.oidc_payloads SET consumed_at = $3 WHERE model = $1 AND id = $2', [
          model,
          id,
          now(),
        ]);
      },
      async destroy(id) {
        await db.query('DELETE FROM idp.oidc_payloads WHERE model = $1 AND id = $2', [model, id]);
      },
      async revokeByGrantId(grantId) {
        await db.query('DELETE FROM idp.oidc_payloads WHERE grant_id = $1', [grantId]);
      },
    };
  };
}

/** Deletes rows past their expiry; the module runs it on a timer. */
export async function sweepExpired(db: Database, now: Date): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM idp.oidc_payloads WHERE expires_at <= $1', [now]);
  await db.query('DELETE FROM idp.federation_states WHERE expires_at <= $1', [now]);
  await db.query('DELETE FROM idp.jpki_nonces WHERE expires_at <= $1', [now]);
  return rowCount ?? 0;
}

/**
 * Lost cards and devices. Registers IC cards (a resident's transit or point IC card read at card
 * readers) and card-reader terminals, answers "may this one still be used?", and revokes them, as
 * well as a lost My Number card (its certificates' evidence is unlinked, so card login stops).
 * Every revocation takes effect at once (the next check reads the row) and is audited.
 *
 * Identifiers (a card's IDm, a terminal's serial) are kept only as keyed hashes.
 *
 * @example
 *   // adapters/card_readers, before accepting a touch:
 *   const ok = await idp.devices.isUsable('terminal', terminalSerial) && await idp.devices.isUsable('ic-card', idm);
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { AuditLog, Database } from '../../core/index.ts';
import type { Sealer } from '../keys/seal.ts';

export type DeviceKind = 'ic-card' | 'terminal';

export interface Device {
  id: string;
  kind: DeviceKind;
  commonId: string | null;
  label: string;
  status: 'active' | 'revoked';
  createdAt: string;
  revokedAt: string | null;
}

export interface Devices {
  register(
    input: { kind: DeviceKind; identifier: string; commonId?: string; label: string },
    actor: string,
  ): Promise<Device>;
  /** Active and, for an IC card, its owner's account active. Unknown identifiers are not usable. */
  isUsable(kind: DeviceKind, identifier: string): Promise<boolean>;
  /** The owner of an active IC card (for crediting a touch). */
  ownerOf(identifier: string): Promise<string | undefined>;
  list(filter: { commonId?: string; kind?: DeviceKind }): Promise<Device[]>;
  /**
   * Revokes a device. `owner` restricts it to a resident's own devices (self-service); staff pass
   * undefined. False when nothing active matched.
   */
  revoke(id: string, input: { actor: string; reason: string; owner?: string }): Promise<boolean>;
  /** A lost My Number card: unlinks its active certificate evidence from the resident. */
  revokeMyNumberCard(commonId: string, input: { actor: string; reason: string }): Promise<number>;
}

interface Row {
  id: string;
  kind: DeviceKind;
  common_id: string | null;
  label: string;
  status: 'active' | 'revoked';
  created_at: Date;
  revoked_at: Date | null;
}

const toDevice = (r: Row): Device => ({
  id: r.id,
  kind: r.kind,
  commonId: r.common_id,
  label: r.label,
  status: r.status,
  createdAt: r.created_at.toISOString(),
  revokedAt: r.revoked_at?.toISOString() ?? null,
});

export function createDevices(options: {
  db: Database;
  audit: AuditLog;
  sealer: Sealer;
  now: () => Date;
}): Devices {
  const { db, audit, now } = options;
  const secret = options.sealer.derive('device-identifier');
  const keyOf = (kind: DeviceKind, identifier: string) =>
    createHmac('sha256', secret)
      .update(`${kind}\u0000${identifier.trim().toUpperCase()}`)
      .digest('base64url');

  return {
    async register(input, actor) {
      const id = `dv_${randomBytes(10).toString('base64url')}`;
      return db.transaction(async (tx) => {
        const { rows } = await tx.query<Row>(
          `INSERT INTO idp.devices (id, kind, identifier_key, common_id, label, status, created_at)
           VALUES ($1, $2, $3, $4, $5, 'active', $6) RETURNING *`,
          [id, input.kind, keyOf(input.kind, input.identifier), input.commonId ?? null, input.label, now()],
        );
        await audit.recordInTransaction(tx, {
          actor,
          action: 'idp.device.register',
          target: `device:${id}`,
          details: { kind: input.kind, ...(input.commonId ? { account: input.commonId } : {}) },
        });
        return toDevice(rows[0]!);
      });
    },

    async isUsable(kind, identifier) {
      const { rows } = await db.query<{ n: number }>(
        `SELECT 1 AS n FROM idp.devices d LEFT JOIN idp.accounts a ON a.common_id = d.common_id
          WHERE d.kind = $1 AND d.identifier_key = $2 AND d.status = 'active'
            AND (d.common_id IS NULL OR a.status = 'active')`,
        [kind, keyOf(kind, identifier)],
      );
      return rows.length > 0;
    },

    async ownerOf(identifier) {
      const { rows } = await db.query<{ common_id: string | null }>(
        `SELECT common_id FROM idp.devices WHERE kind = 'ic-card' AND identifier_key = $1 AND status = 'active'`,
        [keyOf('ic-card', identifier)],
      );
      return rows[0]?.common_id ?? undefined;
    },

    async list(filter) {
      const { rows } = await db.query<Row>(
        `SELECT * FROM idp.devices WHERE ($1::text IS NULL OR common_id = $1) AND ($2::text IS NULL OR kind = $2)
          ORDER BY created_at, id`,
        [filter.commonId ?? null, filter.kind ?? null],
      );
      return rows.map(toDevice);
    },

    async revoke(id, input) {
      return db.transaction(async (tx) => {
        const { rows } = await tx.query<Row>(
          `UPDATE idp.devices SET status = 'revoked', revoked_at = $2, revoked_by = $3, revoke_reason = $4
            WHERE id = $1 AND status = 'active' AND ($5::text IS NULL OR common_id = $5) RETURNING *`,
          [id, now(), input.actor, input.reason, input.owner ?? null],
        );
        if (!rows[0]) return false;
        await audit.recordInTransaction(tx, {
          actor: input.actor,
          action: 'idp.device.revoke',
          target: `device:${id}`,
          details: { kind: rows[0].kind, reason: input.reason },
        });
        return true;
      });
    },

    async revokeMyNumberCard(commonId, input) {
      return db.transaction(async (tx) => {
        const { rowCount } = await tx.query(
          `UPDATE idp.evidence SET status = 'unlinked'
            WHERE common_id = $1 AND kind IN ('jpki-sign', 'jpki-auth') AND status = 'active'`,
          [commonId],
        );
        const count = rowCount ?? 0;
        if (count === 0) return 0;
        // Whoever holds the card may have signed in with it: the account's sessions and tokens end.
        await tx.query(`DELETE FROM idp.oidc_payloads WHERE payload ->> 'accountId' = $1`, [commonId]);
        await audit.recordInTransaction(tx, {
          actor: input.actor,
          action: 'idp.card.revoke',
          target: `account:${commonId}`,
          details: { certificates: count, reason: input.reason },
        });
        return count;
      });
    },
  };
}

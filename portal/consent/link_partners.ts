/**
 * Partners residents may link by signing in at the partner (OAuth 2.0 / OpenID Connect redirect):
 * for each partner service (its client id at our provider), the partner's issuer and the client the
 * platform is registered as there. The client secret is sealed (AES-256-GCM, key derived from
 * MASTER_KEY for this purpose, bound to the service id). Table `portal.link_partners`.
 *
 * The partner registers our redirect URI, `${PUBLIC_URL}/portal/consent/links/callback`, for that
 * client; it should give us a pairwise subject (`subject_type: pairwise`), which becomes the link's
 * `accountRef` — the partner then learns from the link webhook which of its accounts is which of
 * our pairwise subjects, and neither side learns the other's identifiers for other services.
 *
 * @example
 *   const { linkPartners } = ctx.services['portal'] as PortalServices;
 *   await linkPartners.register({ service: healthClientId, issuer: 'https://id.health.example',
 *     clientId: 'tsunagu', clientSecret }, 'staff:alice');
 */
import type { AuditLog, Config, Database } from '../../core/index.ts';
import { deriveKey, defineProblem, openWith, ProblemError, sealWith } from '../../core/index.ts';

defineProblem('invalid-link-partner', { status: 400, title: 'The link partner settings are not valid' });

export interface LinkPartner {
  /** The partner service: its client id at our identity provider. */
  service: string;
  /** The partner's OpenID provider (discovery at `<issuer>/.well-known/openid-configuration`). */
  issuer: string;
  /** The platform's client id at the partner. */
  clientId: string;
  /** Scopes asked for (default `openid`): only the subject is used. */
  scope: string;
}

export interface LinkPartners {
  /** Where the partner sends the resident back (register it at the partner). */
  redirectUri: string;
  /** Adds or replaces a partner's settings; audited. */
  register(
    input: LinkPartner & { clientSecret: string; scope?: string },
    actor: string,
  ): Promise<LinkPartner>;
  remove(service: string, actor: string): Promise<boolean>;
  list(): Promise<LinkPartner[]>;
  /** The settings with the opened secret (the redirect flow only). */
  secretOf(service: string): Promise<(LinkPartner & { clientSecret: string }) | undefined>;
}

interface Row {
  service_id: string;
  issuer: string;
  client_id: string;
  scope: string;
  sealed_secret: string;
}

const toPartner = (r: Row): LinkPartner => ({
  service: r.service_id,
  issuer: r.issuer,
  clientId: r.client_id,
  scope: r.scope,
});

export function createLinkPartners(d: {
  db: Database;
  audit: AuditLog;
  config: Config;
  base: string;
  now: () => Date;
  /** True for a registered partner service (a client of our identity provider). */
  serviceExists(service: string): Promise<boolean>;
}): LinkPartners {
  let key: Buffer | undefined;
  const secretKey = () => (key ??= deriveKey(d.config, 'tsunagu/portal/link-partner-secret'));
  const validIssuer = (issuer: string) => {
    try {
      const url = new URL(issuer);
      if (url.protocol === 'https:') return true;
      return url.protocol === 'http:' && d.config.env !== 'production';
    } catch {
      return false;
    }
  };
  return {
    redirectUri: `${d.config.publicUrl}${d.base}/links/callback`,
    async register(input, actor) {
      const scope = input.scope?.trim() || 'openid';
      if (!validIssuer(input.issuer))
        throw new ProblemError('invalid-link-partner', { detail: 'issuer must be an https URL.' });
      if (!input.service || !input.clientId || !input.clientSecret || !scope.split(' ').includes('openid'))
        throw new ProblemError('invalid-link-partner', {
          detail: 'service, clientId, clientSecret are required; scope must include openid.',
        });
      if (!(await d.serviceExists(input.service)))
        throw new ProblemError('invalid-link-partner', { detail: `No partner service ${input.service}.` });
      return d.db.transaction(async (tx) => {
        const { rows } = await tx.query<Row>(
          `INSERT INTO portal.link_partners (service_id, issuer, client_id, scope, sealed_secret, updated_at, updated_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (service_id) DO UPDATE SET issuer = EXCLUDED.issuer, client_id = EXCLUDED.client_id,
             scope = EXCLUDED.scope, sealed_secret = EXCLUDED.sealed_secret, updated_at = EXCLUDED.updated_at,
             updated_by = EXCLUDED.updated_by
           RETURNING *`,
          [
            input.service,
            input.issuer,
            input.clientId,
            scope,
            sealWith(secretKey(), input.service, input.clientSecret),
            d.now(),
            actor,
          ],
        );
        await d.audit.recordInTransaction(tx, {
          actor,
          action: 'portal.link-partner.registered',
          target: `link-partner:${input.service}`,
          details: { issuer: input.issuer, clientId: input.clientId },
        });
        return toPartner(rows[0]!);
      });
    },
    async remove(service, actor) {
      return d.db.transaction(async (tx) => {
        const { rowCount } = await tx.query('DELETE FROM portal.link_partners WHERE service_id = $1', [
          service,
        ]);
        if (rowCount)
          await d.audit.recordInTransaction(tx, {
            actor,
            action: 'portal.link-partner.removed',
            target: `link-partner:${service}`,
            details: {},
          });
        return (rowCount ?? 0) > 0;
      });
    },
    async list() {
      const { rows } = await d.db.query<Row>('SELECT * FROM portal.link_partners ORDER BY service_id');
      return rows.map(toPartner);
    },
    async secretOf(service) {
      const { rows } = await d.db.query<Row>('SELECT * FROM portal.link_partners WHERE service_id = $1', [
        service,
      ]);
      const r = rows[0];
      return r
        ? { ...toPartner(r), clientSecret: openWith(secretKey(), r.service_id, r.sealed_secret) }
        : undefined;
    },
  };
}

export const LINK_PARTNER_MIGRATIONS = [
  {
    id: '001_link_partners',
    sql: `
      CREATE TABLE portal.link_partners (
        service_id     text        PRIMARY KEY,
        issuer         text        NOT NULL,
        client_id      text        NOT NULL,
        scope          text        NOT NULL,
        sealed_secret  text        NOT NULL,
        updated_at     timestamptz NOT NULL,
        updated_by     text        NOT NULL
      );`,
  },
];

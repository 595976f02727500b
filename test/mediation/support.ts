/**
 * Helpers for the mediation tests: the real platform (core, idp, consent, mediation) on a known
 * port so partner clients get real client-credentials tokens from our OpenID provider; residents
 * enrolled through idp's accounts (which hands the basic 4 info to mediation); a movable clock.
 */
import * as oidc from 'openid-client';
import { type ConsentServices, consentModule } from '../../consent/index.ts';
import { createCoreModule, type TokenVerifier } from '../../core/index.ts';
import { createIdpModuleWith, type IdpServices, type VerifiedProfile } from '../../idp/index.ts';
import { type MediationOptions, type MediationServices, mediationModule } from '../../mediation/index.ts';
import { type Sent, send } from '../support/http.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { freePort } from '../support/ports.ts';

export class Clock {
  at: Date;
  constructor(at: Date) {
    this.at = at;
  }
  now = (): Date => new Date(this.at.getTime());
  advance(ms: number): void {
    this.at = new Date(this.at.getTime() + ms);
  }
}

export const DAY = 86_400_000;
export const BASIC4 = ['name', 'address', 'birthdate', 'gender'];

export const PROFILE: VerifiedProfile = {
  name: '山田 花子',
  birthdate: '1990-04-01',
  gender: 'female',
  address: '東京都千代田区霞が関1-1',
  evidence: { issuer: 'test-ca', serial: '01', verifiedAt: '2026-11-01T00:00:00.000Z' },
};

export interface Partner {
  clientId: string;
  clientSecret: string;
  token: string;
}

export interface MediationTest extends TestPlatform {
  idp: IdpServices;
  consent: ConsentServices;
  mediation: MediationServices;
  clock: Clock;
  /** A partner client with a fresh client-credentials token for `scopes`. */
  partner(scopes: string[], extra?: { ipAllowList?: string[] }): Promise<Partner>;
  token(p: { clientId: string; clientSecret: string }, scopes: string[]): Promise<string>;
  /** Enrols a resident through idp (the profile reaches mediation in the same transaction). */
  resident(profile?: VerifiedProfile): Promise<string>;
  subject(resident: string, clientId: string): Promise<string>;
  /** Publishes a notice for `service` and gives the resident consent to `items`. */
  consentTo(
    resident: string,
    service: string,
    items: string[],
    purpose: string,
    source?: string,
  ): Promise<void>;
  read(p: Partner, body: Record<string, unknown>): Promise<Sent>;
  /** The newest access log rows (staff view), newest last. */
  lastLog(n?: number): Promise<Array<Record<string, unknown>>>;
  logCount(): Promise<number>;
}

export async function startMediationPlatform(
  options: MediationOptions = {},
  env: Record<string, string> = {},
  extra: { databaseUrl?: string; dataDir?: string; clock?: Clock; tokenVerifier?: TokenVerifier } = {},
): Promise<MediationTest> {
  const port = await freePort();
  // Ten days back: tests may move the clock forward (expiry) while tokens, whose `exp` the provider
  // sets from the real clock, stay valid; take a fresh token after moving it (stored expiry follows it).
  const clock = extra.clock ?? new Clock(new Date(Math.floor(Date.now() / 1000) * 1000 - 10 * DAY));
  const t = await startTestPlatform({
    now: clock.now,
    env: { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, ...env },
    ...(extra.databaseUrl ? { databaseUrl: extra.databaseUrl } : {}),
    ...(extra.dataDir ? { dataDir: extra.dataDir } : {}),
    ...(extra.tokenVerifier ? { tokenVerifier: extra.tokenVerifier } : {}),
    modules: [
      createCoreModule,
      createIdpModuleWith({}),
      consentModule({ deliveryIntervalMs: 0, expiryIntervalMs: 0 }),
      mediationModule({ maintenanceIntervalMs: 0, ...options }),
    ],
  });
  const idp = t.platform.services['idp'] as IdpServices;
  const consent = t.platform.services['consent'] as ConsentServices;
  const mediation = t.platform.services['mediation'] as MediationServices;
  const notices = new Map<string, number>();

  async function token(p: { clientId: string; clientSecret: string }, scopes: string[]): Promise<string> {
    const rp = await oidc.discovery(
      new URL(idp.issuer),
      p.clientId,
      {},
      oidc.ClientSecretBasic(p.clientSecret),
      {
        execute: [oidc.allowInsecureRequests],
      },
    );
    return (await oidc.clientCredentialsGrant(rp, { scope: scopes.join(' ') })).access_token;
  }

  return Object.assign(t, {
    idp,
    consent,
    mediation,
    clock,
    token,
    async partner(scopes: string[], more: { ipAllowList?: string[] } = {}) {
      const { client, clientSecret } = await idp.clients.create(
        { name: 'テスト連携サービス', grantTypes: ['client_credentials'], scopes, ...more },
        'test',
      );
      const creds = { clientId: client.clientId, clientSecret: clientSecret ?? '' };
      return { ...creds, token: await token(creds, scopes) };
    },
    resident(profile: VerifiedProfile = PROFILE) {
      return t.platform.db.transaction((tx) => idp.accounts.create(tx, 'test', profile));
    },
    subject: (resident: string, clientId: string) => idp.accounts.pairwiseSubject(resident, clientId),
    async consentTo(resident: string, service: string, items: string[], purpose: string, source?: string) {
      const noticeId = `notice-${service}-${purpose}`;
      if (!notices.has(noticeId)) {
        const n = await consent.publishNotice(
          {
            noticeId,
            service,
            purposes: [purpose],
            titleJa: 'プライバシーポリシー',
            titleEn: 'Privacy notice',
            bodyJa: '本文',
            bodyEn: 'Body',
            material: true,
          },
          'staff:test',
        );
        notices.set(noticeId, n.version);
      }
      await consent.give({
        resident,
        service,
        items,
        purpose,
        notice: { id: noticeId, version: notices.get(noticeId)! },
        ...(source ? { source } : {}),
      });
    },
    read: (p: Partner, body: Record<string, unknown>) =>
      send(`${t.url}/api/mediation/v1/requests`, {
        method: 'POST',
        headers: { authorization: `Bearer ${p.token}` },
        body,
      }),
    async lastLog(n = 1) {
      const { rows } = await t.platform.db.query(
        `SELECT seq, kind, service, source, resident, items, purpose, decision, code, consents, suppressed_until
           FROM mediation.access_log ORDER BY seq DESC LIMIT $1`,
        [n],
      );
      return rows.reverse();
    },
    async logCount() {
      const { rows } = await t.platform.db.query<{ n: string }>(
        'SELECT count(*) AS n FROM mediation.access_log',
      );
      return Number(rows[0]!.n);
    },
  });
}

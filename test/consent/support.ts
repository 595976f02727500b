/**
 * Helpers for the consent tests: a platform with only core + consent, a movable frozen clock, static
 * bearer tokens, and an in-memory directory that follows the `ResidentDirectory` contract
 * (consent/ports.ts) the way the identity provider does: unknown or disabled residents are not
 * active, pairwise subjects are stable per service and map back only for that service.
 */
import { createHmac } from 'node:crypto';
import type { ConsentServices, ResidentDirectory } from '../../consent/index.ts';
import { consentModule } from '../../consent/index.ts';
import { createCoreModule } from '../../core/index.ts';
import { startTestPlatform, staticTokens, type TestPlatform } from '../support/platform.ts';

export const T0 = new Date('2026-04-01T00:00:00.000Z');

export class Clock {
  at: Date;
  constructor(at: Date = T0) {
    this.at = at;
  }
  now = (): Date => new Date(this.at.getTime());
  advance(ms: number): void {
    this.at = new Date(this.at.getTime() + ms);
  }
}

export class TestDirectory implements ResidentDirectory {
  readonly residents = new Map<string, 'active' | 'disabled'>();
  readonly services = new Set<string>();
  readonly subjects = new Map<string, string>();
  async residentActive(commonId: string) {
    return this.residents.get(commonId) === 'active';
  }
  async serviceExists(serviceId: string) {
    return this.services.has(serviceId);
  }
  async subjectFor(commonId: string, serviceId: string) {
    const sub = createHmac('sha256', 'test').update(`${serviceId}\u0000${commonId}`).digest('base64url');
    this.subjects.set(`${serviceId}\u0000${sub}`, commonId);
    return sub;
  }
  async commonIdForSubject(serviceId: string, sub: string) {
    return this.subjects.get(`${serviceId}\u0000${sub}`);
  }
}

export const RESIDENT = 'aaaaaaaaaaaaaaaaaaaaaaaaaa';
export const OTHER_RESIDENT = 'bbbbbbbbbbbbbbbbbbbbbbbbbb';
export const HEALTH = 'c_health-app-00001';
export const SDGS = 'c_sdgs-site-000001';
export const BASIC4 = ['name', 'address', 'birthdate', 'gender'];

export const TOKENS = {
  resident: { subject: RESIDENT, clientId: 'portal', scopes: ['consent:self'] },
  other: { subject: OTHER_RESIDENT, clientId: 'portal', scopes: ['consent:self'] },
  noscope: { subject: RESIDENT, clientId: 'portal', scopes: ['openid'] },
  health: { clientId: HEALTH, scopes: ['consent:decide', 'consent:webhook', 'consent:link'] },
  sdgs: { clientId: SDGS, scopes: ['consent:decide', 'consent:webhook'] },
  staff: { subject: 'staff-1', clientId: 'console', scopes: ['consent:admin'] },
};

export interface ConsentTest extends TestPlatform {
  consent: ConsentServices;
  directory: TestDirectory;
  clock: Clock;
  auth(token: keyof typeof TOKENS): Record<string, string>;
}

export async function startConsentPlatform(
  env: Record<string, string> = {},
  moduleOptions: { deliveryIntervalMs?: number } = {},
): Promise<ConsentTest> {
  const clock = new Clock();
  const directory = new TestDirectory();
  directory.residents.set(RESIDENT, 'active');
  directory.residents.set(OTHER_RESIDENT, 'active');
  directory.services.add(HEALTH);
  directory.services.add(SDGS);
  const t = await startTestPlatform({
    now: clock.now,
    tokenVerifier: staticTokens(TOKENS),
    modules: [
      createCoreModule,
      consentModule({ directory, deliveryIntervalMs: 0, expiryIntervalMs: 0, ...moduleOptions }),
    ],
    env,
  });
  const consent = t.platform.services['consent'] as ConsentServices;
  return Object.assign(t, {
    consent,
    directory,
    clock,
    auth: (token: keyof typeof TOKENS) => ({ authorization: `Bearer ${token}` }),
  });
}

/** Publishes the notices most tests consent under. */
export async function publishNotices(t: ConsentTest): Promise<void> {
  await t.consent.publishNotice(
    {
      noticeId: 'health-app',
      service: HEALTH,
      purposes: ['health-promotion', 'age-check'],
      titleJa: '健康アプリのプライバシーポリシー',
      titleEn: 'Health app privacy notice',
      bodyJa: '健康増進のために利用します。',
      bodyEn: 'Used to promote your health.',
      material: true,
    },
    'staff:test',
  );
  await t.consent.publishNotice(
    {
      noticeId: 'sdgs-site',
      service: SDGS,
      purposes: ['activity-points'],
      titleJa: 'SDGs活動サイトのプライバシーポリシー',
      titleEn: 'SDGs site privacy notice',
      bodyJa: '活動ポイントの付与に利用します。',
      bodyEn: 'Used to grant activity points.',
      material: true,
    },
    'staff:test',
  );
}

export async function count(t: TestPlatform, sql: string, values: unknown[] = []): Promise<number> {
  const { rows } = await t.platform.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${sql}`, values);
  return Number(rows[0]!.n);
}

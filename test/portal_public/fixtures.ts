/**
 * A two-town deployment for the public site: two currencies with point types, shops in both towns,
 * campaigns, a staff token, and a cookie jar for the merchant console.
 */
import path from 'node:path';
import type { PointsService } from '../../points/index.ts';
import { startTestPlatform, staticTokens, type TestPlatform } from '../support/platform.ts';

export const STAFF = { authorization: 'Bearer staff-token' };

/** Set before the platform starts: the portal sections read their settings from the environment. */
export function publicSiteEnv(extra: Record<string, string> = {}): void {
  Object.assign(process.env, {
    PUBLIC_DIRECTORY_TTL_SECONDS: '0',
    PUBLIC_MUNICIPALITIES: 'saijo=西条市|Saijo City,niihama=新居浜市|Niihama City',
    PUBLIC_MAP_BOUNDARIES: path.join(import.meta.dirname, 'boundaries.geojson'),
    ...extra,
  });
}

export async function startPublicSite(options: { now?: () => Date } = {}): Promise<TestPlatform> {
  publicSiteEnv();
  return startTestPlatform({
    tokenVerifier: staticTokens({
      'staff-token': { subject: 'alice', clientId: 'console', scopes: ['portal:directory'] },
      'other-token': { subject: 'bob', clientId: 'console', scopes: ['points:admin'] },
    }),
    ...(options.now ? { now: options.now } : {}),
  });
}

export async function seedTowns(t: TestPlatform, shops = 3): Promise<void> {
  const points = t.platform.services['points'] as PointsService;
  await points.createCurrency(
    { code: 'saijo-lsp', municipality: 'saijo', name: 'LOVESAIJO ポイント' },
    'staff:test',
  );
  await points.createPointType(
    { currency: 'saijo-lsp', code: 'event', name: 'イベントポイント', validityDays: 180, issuer: 'city' },
    'staff:test',
  );
  await points.createPointType(
    { currency: 'saijo-lsp', code: 'cash', name: 'チャージ', cashCharged: true, issuer: 'city' },
    'staff:test',
  );
  await points.createCurrency(
    { code: 'niihama-p', municipality: 'niihama', name: 'にいはまポイント' },
    'staff:test',
  );
  await points.createPointType(
    { currency: 'niihama-p', code: 'basic', name: '通常ポイント', issuer: 'city' },
    'staff:test',
  );
  for (let i = 1; i <= shops; i++)
    await points.registerMerchant(
      { id: `s${i}`, municipality: 'saijo', name: `西条の店${i}`, place: 'ekimae' },
      'staff:test',
    );
  await points.registerMerchant({ id: 'n1', municipality: 'niihama', name: '新居浜の店' }, 'staff:test');
}

/** A minimal cookie jar: enough for the console's one session cookie. */
export class Browser {
  cookies = new Map<string, string>();
  readonly base: string;
  constructor(base: string) {
    this.base = base;
  }
  async fetch(p: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(`${this.base}${p}`, { ...init, headers, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i);
      const value = pair!.slice(i + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }
  form(p: string, fields: Record<string, string>): Promise<Response> {
    return this.fetch(p, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }
}

export function csrfOf(html: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no csrf field on the page');
  return m[1]!;
}

export interface SeedProfile {
  id: string;
  name: string;
  nameKana?: string;
  category: string;
  area: string;
  address: string;
  hours?: string;
  lat?: number;
  lon?: number;
}

/**
 * Publishes approved entries as staff approval leaves them (version 1), after the directory has read
 * the ledger's merchants; the approval workflow itself is tested in merchant_console.test.ts.
 */
export async function publishProfiles(t: TestPlatform, profiles: SeedProfile[]): Promise<void> {
  await fetch(`${t.url}/shops`);
  for (const p of profiles) {
    const { rowCount } = await t.platform.db.query(
      `UPDATE portal.shops SET name = $2, name_kana = $3, category = $4, area = $5, address = $6, hours = $7,
              lat = $8, lon = $9, version = version + 1, approved_at = now(), approved_by = 'staff:seed'
        WHERE merchant_id = $1`,
      [
        p.id,
        p.name,
        p.nameKana ?? null,
        p.category,
        p.area,
        p.address,
        p.hours ?? null,
        p.lat ?? null,
        p.lon ?? null,
      ],
    );
    if (rowCount !== 1) throw new Error(`no shop ${p.id}`);
  }
}

export const TOWN_SHOPS: SeedProfile[] = [
  {
    id: 's1',
    name: '駅前珈琲',
    nameKana: 'えきまえこーひー',
    category: 'cafe',
    area: '駅前',
    address: '愛媛県西条市大町1-1',
    hours: '8:00〜18:00',
    lat: 33.9196,
    lon: 133.1812,
  },
  {
    id: 's2',
    name: '駅前青果',
    nameKana: 'えきまえせいか',
    category: 'grocery',
    area: '駅前',
    address: '愛媛県西条市大町2-2',
    lat: 33.9201,
    lon: 133.1822,
  },
  {
    id: 's3',
    name: '丹原カフェ',
    nameKana: 'たんばらかふぇ',
    category: 'cafe',
    area: '丹原',
    address: '愛媛県西条市丹原町3-3',
    lat: 33.8913,
    lon: 133.0944,
  },
  {
    id: 'n1',
    name: '新居浜カフェ',
    nameKana: 'にいはまかふぇ',
    category: 'cafe',
    area: '駅前',
    address: '愛媛県新居浜市坂井町4-4',
    lat: 33.9533,
    lon: 133.2667,
  },
];

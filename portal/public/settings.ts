/**
 * The public site's settings (environment variables, safe defaults for the embedded mode):
 *
 * | variable                      | default                        | meaning                                                                                   |
 * | ----------------------------- | ------------------------------ | ----------------------------------------------------------------------------------------- |
 * | `PUBLIC_SITE_NAME`            | `つなぐポイント\|Tsunagu Points` | the site's name, Japanese and English separated by `\|`                                    |
 * | `PUBLIC_MUNICIPALITIES`       | (from the currencies)          | `code=日本語名\|English name,…`: the municipalities taking part, in this order             |
 * | `PUBLIC_MAP_TILE_URL`         | (none: no tiles)               | raster tile template, e.g. `https://tiles.example.jp/{z}/{x}/{y}.png` (https: the CSP)    |
 * | `PUBLIC_MAP_TILE_ATTRIBUTION` | (none)                         | attribution shown under the tiles                                                          |
 * | `PUBLIC_MAP_BOUNDARIES`       | (none)                         | GeoJSON file(s), comma-separated, drawn as boundary layers (works with no tile server)     |
 * | `PUBLIC_DIRECTORY_TTL_SECONDS`| 30                             | how long the points directory (merchants, currencies, campaigns) is reused before a reload |
 * | `PUBLIC_CACHE_SECONDS`        | 60                             | `Cache-Control: public, max-age` of the public pages                                       |
 */
import { readFileSync } from 'node:fs';

export interface Municipality {
  code: string;
  ja: string;
  en: string;
}

export interface PublicSiteSettings {
  siteName: { ja: string; en: string };
  municipalities: Municipality[];
  tileUrl: string | undefined;
  tileAttribution: string | undefined;
  /** GeoJSON FeatureCollections read at start-up. */
  boundaries: unknown[];
  directoryTtlMs: number;
  cacheSeconds: number;
}

function pair(value: string, fallbackEn: string): { ja: string; en: string } {
  const [ja, en] = value.split('|');
  return { ja: (ja ?? '').trim(), en: (en ?? fallbackEn).trim() };
}

function seconds(value: string | undefined, fallback: number): number {
  const n = Number(value ?? fallback);
  if (!Number.isFinite(n) || n < 0) throw new Error(`expected a number of seconds, got ${value}`);
  return n;
}

/** A tile template must be an absolute http(s) URL with {z}, {x} and {y}. */
function tileUrl(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (!/^https?:\/\//.test(value) || !['{z}', '{x}', '{y}'].every((p) => value.includes(p)))
    throw new Error('PUBLIC_MAP_TILE_URL must be an http(s) URL with {z}, {x} and {y}');
  return value;
}

export function publicSiteSettings(env: Record<string, string | undefined>): PublicSiteSettings {
  const municipalities = (env['PUBLIC_MUNICIPALITIES'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const i = entry.indexOf('=');
      const code = (i < 0 ? entry : entry.slice(0, i)).trim();
      const names = pair(i < 0 ? code : entry.slice(i + 1), code);
      return { code, ja: names.ja || code, en: names.en || code };
    });
  const boundaries = (env['PUBLIC_MAP_BOUNDARIES'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((file) => {
      const json = JSON.parse(readFileSync(file, 'utf8')) as { type?: string };
      if (json.type !== 'FeatureCollection' && json.type !== 'Feature')
        throw new Error(`${file} is not a GeoJSON FeatureCollection`);
      return json;
    });
  return {
    siteName: pair(env['PUBLIC_SITE_NAME'] ?? 'つなぐポイント|Tsunagu Points', 'Tsunagu Points'),
    municipalities,
    tileUrl: tileUrl(env['PUBLIC_MAP_TILE_URL']),
    tileAttribution: env['PUBLIC_MAP_TILE_ATTRIBUTION'] || undefined,
    boundaries,
    directoryTtlMs: seconds(env['PUBLIC_DIRECTORY_TTL_SECONDS'], 30) * 1000,
    cacheSeconds: seconds(env['PUBLIC_CACHE_SECONDS'], 60),
  };
}

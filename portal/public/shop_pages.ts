/**
 * The merchant directory pages: `/shops` (search by name, category and area, results, map) and
 * `/shops/:id` (one shop: category, address, hours, accepted currencies and point types,
 * campaigns, map, schema.org LocalBusiness).
 */
import type { Directory } from '../../points/index.ts';
import { CATEGORIES, category } from './categories.ts';
import type { SearchQuery, Shop, ShopSummary } from './directory_store.ts';
import { bi, escapeHtml, publicPage, STATIC_BASE, time } from './layout.ts';
import type { PublicSiteSettings } from './settings.ts';
import {
  acceptedBy,
  campaignsFor,
  currencyName,
  describeCampaign,
  isRunning,
  municipalities,
  municipalityName,
} from './site_facts.ts';

export const LEAFLET_BASE = `${STATIC_BASE}/leaflet-1.9.4`;

interface PageContext {
  settings: PublicSiteSettings;
  publicUrl: string;
  directory: Directory;
  now: Date;
}

export function displayName(shop: Pick<Shop, 'name' | 'ledgerName'>): string {
  return shop.name ?? shop.ledgerName;
}

function query(params: Record<string, string | number | undefined>): string {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') s.set(k, String(v));
  const text = s.toString();
  return text ? `?${text}` : '';
}

/** The Leaflet map: a region the client script fills; without JavaScript the list above says it all. */
function mapBlock(p: PageContext, shopsUrl: string, label: string, focus?: string): string {
  return `<div id="map" class="map" role="region" aria-label="${escapeHtml(label)}"
  data-shops="${escapeHtml(shopsUrl)}" data-boundaries="/shops/boundaries.geojson"
  data-leaflet="${LEAFLET_BASE}/"${p.settings.tileUrl ? ` data-tiles="${escapeHtml(p.settings.tileUrl)}"` : ''}${
    p.settings.tileAttribution ? ` data-attribution="${escapeHtml(p.settings.tileAttribution)}"` : ''
  }${focus ? ` data-focus="${escapeHtml(focus)}"` : ''}></div>
<noscript><p class="meta">${bi('地図の表示には JavaScript が必要です。住所は上の一覧にあります。', 'The map needs JavaScript; the addresses are listed above.')}</p></noscript>`;
}

function areaOptions(
  p: PageContext,
  areas: Array<{ municipality: string; area: string | null }>,
  chosen: string,
) {
  const groups = municipalities(p.settings, p.directory).map((m) => {
    const inside = areas.filter((a) => a.municipality === m.code && a.area !== null);
    const value = m.code;
    return `<option value="${escapeHtml(value)}"${chosen === value ? ' selected' : ''}>${escapeHtml(m.ja)} (${escapeHtml(m.en)})</option>
${inside
  .map((a) => {
    const v = `${m.code}/${a.area}`;
    return `<option value="${escapeHtml(v)}"${chosen === v ? ' selected' : ''}>\u3000${escapeHtml(m.ja)} ${escapeHtml(a.area)}</option>`;
  })
  .join('\n')}`;
  });
  return groups.join('\n');
}

function acceptedLine(p: PageContext, shop: ShopSummary): string {
  const accepted = acceptedBy(p.directory, shop.municipality);
  if (accepted.length === 0) return '';
  return `<p class="meta">${bi('使えるポイント', 'Accepts')}: ${accepted.map((c) => `<span class="tag">${escapeHtml(c.name)}</span>`).join('')}</p>`;
}

export function postalAddress(p: PageContext, shop: Shop) {
  const m = municipalityName(p.settings, shop.municipality);
  return {
    '@type': 'PostalAddress',
    addressCountry: 'JP',
    addressLocality: m.ja,
    ...(shop.postalCode ? { postalCode: shop.postalCode } : {}),
    ...(shop.address ? { streetAddress: shop.address } : {}),
  };
}

export function localBusiness(p: PageContext, shop: Shop) {
  const url = `${p.publicUrl}/shops/${encodeURIComponent(shop.merchantId)}`;
  return {
    '@context': 'https://schema.org',
    '@type': 'LocalBusiness',
    '@id': url,
    url,
    name: displayName(shop),
    ...(shop.nameEn ? { alternateName: shop.nameEn } : {}),
    ...(shop.description ? { description: shop.description } : {}),
    address: postalAddress(p, shop),
    ...(shop.lat !== null && shop.lon !== null
      ? { geo: { '@type': 'GeoCoordinates', latitude: shop.lat, longitude: shop.lon } }
      : {}),
    ...(shop.phone ? { telephone: shop.phone } : {}),
    ...(shop.url ? { sameAs: shop.url } : {}),
    ...(shop.hours && /^(Mo|Tu|We|Th|Fr|Sa|Su)/.test(shop.hours)
      ? { openingHours: shop.hours.split('\n') }
      : {}),
    paymentAccepted: acceptedBy(p.directory, shop.municipality)
      .map((c) => c.name)
      .join(', '),
    areaServed: municipalityName(p.settings, shop.municipality).ja,
  };
}

export function renderShopsPage(
  p: PageContext,
  q: SearchQuery,
  result: { total: number; page: number; pageSize: number; shops: ShopSummary[] },
  areas: Array<{ municipality: string; area: string | null }>,
): string {
  const filters = { q: q.q, category: q.category, area: q.area };
  const pages = Math.max(1, Math.ceil(result.total / result.pageSize));
  const list = result.shops
    .map((shop) => {
      const m = municipalityName(p.settings, shop.municipality);
      const c = category(shop.category);
      return `<li>
<h3><a href="/shops/${encodeURIComponent(shop.merchantId)}">${escapeHtml(displayName(shop))}</a>${shop.nameEn ? ` <span class="en" lang="en">${escapeHtml(shop.nameEn)}</span>` : ''}</h3>
<p class="meta"><span class="tag">${escapeHtml(c.ja)} <span lang="en">/ ${escapeHtml(c.en)}</span></span> ${escapeHtml(m.ja)}${shop.area ? ` ${escapeHtml(shop.area)}` : ''}</p>
${shop.address ? `<p class="meta">${escapeHtml(shop.address)}</p>` : ''}
${shop.hours ? `<p class="meta">${bi('営業時間', 'Hours')}: ${escapeHtml(shop.hours.split('\n')[0])}</p>` : ''}
${acceptedLine(p, shop)}
</li>`;
    })
    .join('\n');
  const pager =
    pages > 1
      ? `<nav class="pager" aria-label="ページ / Pages">
${result.page > 1 ? `<a class="button secondary" rel="prev" href="/shops${query({ ...filters, page: result.page - 1 })}">前へ <span lang="en">Previous</span></a>` : '<span></span>'}
<span>${result.page} / ${pages}</span>
${result.page < pages ? `<a class="button secondary" rel="next" href="/shops${query({ ...filters, page: result.page + 1 })}">次へ <span lang="en">Next</span></a>` : '<span></span>'}
</nav>`
      : '';
  const body = `<p>${bi('ポイントが使えるお店（協力店舗）の一覧です。名前・業種・地域でさがせます。', 'Shops where points can be used. Search by name, category and area.')}</p>
<section class="card" aria-labelledby="search-h">
<h2 id="search-h">${bi('お店をさがす', 'Search')}</h2>
<form class="search" method="get" action="/shops" role="search">
<div><label for="q">${bi('店名・キーワード', 'Name or keyword')}</label>
<input id="q" name="q" type="search" value="${escapeHtml(q.q ?? '')}" autocomplete="off"></div>
<div><label for="category">${bi('業種', 'Category')}</label>
<select id="category" name="category"><option value="">すべて (All)</option>
${CATEGORIES.map((c) => `<option value="${c.code}"${q.category === c.code ? ' selected' : ''}>${escapeHtml(c.ja)} (${escapeHtml(c.en)})</option>`).join('\n')}
</select></div>
<div><label for="area">${bi('地域', 'Area')}</label>
<select id="area" name="area"><option value="">すべて (All)</option>
${areaOptions(p, areas, q.area ?? '')}
</select></div>
<div><button type="submit">さがす <span lang="en">Search</span></button></div>
</form>
</section>
<section aria-labelledby="results-h">
<h2 id="results-h">${bi('検索結果', 'Results')}</h2>
<p class="count" role="status">${result.total.toLocaleString('ja-JP')} 件 <span lang="en">(${result.total.toLocaleString('en')} shops)</span></p>
<ul class="cards" id="results">
${list}
</ul>
${pager}
${mapBlock(p, `/shops/map.geojson${query(filters)}`, '検索結果の地図 / Map of the results')}
</section>`;
  return publicPage({
    site: p.settings.siteName,
    title: 'お店をさがす',
    titleEn: 'Find a shop',
    canonical: `${p.publicUrl}/shops${query({ ...filters, page: result.page > 1 ? result.page : undefined })}`,
    description: 'ポイントが使えるお店の一覧と地図。Shops that accept the points, with a map.',
    current: 'shops',
    body,
    jsonLd: [
      {
        '@context': 'https://schema.org',
        '@type': 'ItemList',
        numberOfItems: result.total,
        itemListElement: result.shops.map((shop, i) => ({
          '@type': 'ListItem',
          position: (result.page - 1) * result.pageSize + i + 1,
          url: `${p.publicUrl}/shops/${encodeURIComponent(shop.merchantId)}`,
          name: displayName(shop),
        })),
      },
    ],
    styles: [`${LEAFLET_BASE}/leaflet.css`],
    scripts: [`${LEAFLET_BASE}/leaflet.js`, `${STATIC_BASE}/map.js`],
  });
}

export function renderShopPage(p: PageContext, shop: Shop): string {
  const m = municipalityName(p.settings, shop.municipality);
  const c = category(shop.category);
  const accepted = acceptedBy(p.directory, shop.municipality);
  const campaigns = campaignsFor(p.directory, shop.merchantId, shop.municipality);
  const fact = (ja: string, en: string, value: string | null, html?: string) =>
    value === null ? '' : `<dt>${bi(ja, en)}</dt><dd>${html ?? escapeHtml(value)}</dd>`;
  const body = `${shop.nameKana ? `<p class="meta">${escapeHtml(shop.nameKana)}</p>` : ''}
${shop.nameEn ? `<p class="meta" lang="en">${escapeHtml(shop.nameEn)}</p>` : ''}
${shop.description ? `<p>${escapeHtml(shop.description)}</p>` : ''}
<section class="card" aria-labelledby="facts-h">
<h2 id="facts-h">${bi('お店の情報', 'About the shop')}</h2>
<dl class="facts">
${fact('業種', 'Category', c.ja, `${escapeHtml(c.ja)} <span lang="en">/ ${escapeHtml(c.en)}</span>`)}
${fact('地域', 'Area', `${m.ja}${shop.area ? ` ${shop.area}` : ''}`)}
${fact('住所', 'Address', shop.address ? `${shop.postalCode ? `〒${shop.postalCode} ` : ''}${shop.address}` : null)}
${fact('営業時間', 'Hours', shop.hours)}
${fact('電話', 'Phone', shop.phone, shop.phone ? `<a href="tel:${escapeHtml(shop.phone.replace(/[^0-9+]/g, ''))}">${escapeHtml(shop.phone)}</a>` : undefined)}
${fact('ウェブサイト', 'Website', shop.url, shop.url ? `<a href="${escapeHtml(shop.url)}" rel="nofollow noopener">${escapeHtml(shop.url)}</a>` : undefined)}
</dl>
</section>
<section class="card" aria-labelledby="accepts-h">
<h2 id="accepts-h">${bi('使えるポイント・通貨', 'Points and currencies accepted')}</h2>
${
  accepted.length === 0
    ? `<p>${bi('現在、使えるポイントはありません。', 'No points are accepted at the moment.')}</p>`
    : `<ul class="plain">${accepted
        .map(
          (cur) => `<li><strong>${escapeHtml(cur.name)}</strong>
${cur.pointTypes.length ? `<p class="meta">${bi('種類', 'Kinds')}: ${cur.pointTypes.map((t) => `<span class="tag">${escapeHtml(t.name)}</span>`).join('')}</p>` : ''}</li>`,
        )
        .join('\n')}</ul>`
}
</section>
<section class="card" aria-labelledby="campaigns-h">
<h2 id="campaigns-h">${bi('キャンペーン', 'Campaigns')}</h2>
${
  campaigns.length === 0
    ? `<p>${bi('実施中・予定のキャンペーンはありません。', 'No current or upcoming campaigns.')}</p>`
    : `<ul class="plain">${campaigns
        .map((cp) => {
          const d = describeCampaign(cp);
          return `<li><p><strong>${escapeHtml(currencyName(p.directory, cp.currency))}</strong> ${isRunning(cp, p.now) ? '<span class="tag">実施中 <span lang="en">Running</span></span>' : '<span class="tag">予定 <span lang="en">Upcoming</span></span>'}</p>
<p>${bi(d.ja, d.en)}</p>
<p class="meta">${time(cp.startsAt)}${cp.endsAt ? ` 〜 ${time(cp.endsAt)}` : ' 〜'}</p></li>`;
        })
        .join('\n')}</ul>`
}
</section>
${
  shop.lat !== null && shop.lon !== null
    ? `<section aria-labelledby="map-h"><h2 id="map-h">${bi('地図', 'Map')}</h2>
<p class="meta">${bi('緯度・経度', 'Latitude, longitude')}: ${shop.lat.toFixed(6)}, ${shop.lon.toFixed(6)}</p>
${mapBlock(p, `/shops/map.geojson?id=${encodeURIComponent(shop.merchantId)}`, `${displayName(shop)}の地図 / Map`, shop.merchantId)}</section>`
    : ''
}
<p><a class="button secondary" href="/shops">一覧へ戻る <span lang="en">Back to the list</span></a></p>`;
  return publicPage({
    site: p.settings.siteName,
    title: displayName(shop),
    titleEn: shop.nameEn ?? 'Shop',
    heading: escapeHtml(displayName(shop)),
    canonical: `${p.publicUrl}/shops/${encodeURIComponent(shop.merchantId)}`,
    description: `${displayName(shop)}（${c.ja}、${m.ja}）: ${accepted.map((x) => x.name).join('、')}`,
    current: 'shops',
    body,
    jsonLd: [localBusiness(p, shop)],
    ...(shop.lat !== null && shop.lon !== null
      ? {
          styles: [`${LEAFLET_BASE}/leaflet.css`],
          scripts: [`${LEAFLET_BASE}/leaflet.js`, `${STATIC_BASE}/map.js`],
        }
      : {}),
  });
}

/** GeoJSON of shops with coordinates (the map's markers). */
export function shopsGeoJson(shops: ShopSummary[]) {
  return {
    type: 'FeatureCollection',
    features: shops
      .filter((s) => s.lat !== null && s.lon !== null)
      .map((s) => ({
        type: 'Feature',
        id: s.merchantId,
        geometry: { type: 'Point', coordinates: [s.lon, s.lat] },
        properties: {
          id: s.merchantId,
          name: displayName(s),
          category: category(s.category).ja,
          url: `/shops/${encodeURIComponent(s.merchantId)}`,
        },
      })),
  };
}

/**
 * The home page (what the point service is, how to join, municipalities, campaigns, news), where to
 * earn (activities that grant points, schema.org Event) and the open data page (published datasets
 * and charts).
 */
import type { Directory } from '../../points/index.ts';
import { earnKind } from './categories.ts';
import type { EarnActivity } from './earn_store.ts';
import { bi, escapeHtml, publicPage, time } from './layout.ts';
import type { PublicSiteSettings } from './settings.ts';
import { currencyName, describeCampaign, isRunning, municipalities, municipalityName } from './site_facts.ts';

interface PageContext {
  settings: PublicSiteSettings;
  publicUrl: string;
  directory: Directory;
  now: Date;
}

export interface NewsItem {
  title: string;
  titleEn?: string | null;
  publishedAt: string;
  url?: string | null;
}

export function renderHomePage(
  p: PageContext,
  news: NewsItem[] | null,
  shopCount: number,
  shopNames: ReadonlyMap<string, string>,
): string {
  const site = p.settings.siteName;
  const running = p.directory.campaigns.filter((c) => isRunning(c, p.now));
  const merchantName = (id: string | null) => (id === null ? null : (shopNames.get(id) ?? id));
  const towns = municipalities(p.settings, p.directory);
  const body = `<p>${bi(
    `${site.ja}は、市の事業やイベントへの参加、健康づくり、ボランティアなどでポイントがたまり、地域のお店で使える仕組みです。`,
    `${site.en} rewards taking part in municipal programmes, events, health activities and volunteering with points you can spend at local shops.`,
  )}</p>
<div class="actions"><a class="button" href="/shops">${bi('使えるお店をさがす', 'Find a shop')}</a>
<a class="button secondary" href="/earn">${bi('ポイントをためる', 'Ways to earn')}</a></div>
<section class="card" aria-labelledby="join-h">
<h2 id="join-h">${bi('参加するには', 'How to join')}</h2>
<ol class="steps">
<li>${bi('住民ポータルでマイナンバーカードを使って登録します（本人確認済ID）。', 'Sign up on the resident portal with your My Number card (verified ID).')}</li>
<li>${bi('使っているサービス（健康アプリ、LINE など）を連携し、データ連携の同意を選びます。', 'Link the services you use (health app, LINE, …) and choose what data may be shared.')}</li>
<li>${bi('市の事業やイベントに参加してポイントをためます。', 'Take part in municipal programmes and events to earn points.')}</li>
<li>${bi('協力店舗で QR コードを読み取って支払います。', 'Pay at participating shops by scanning their QR code.')}</li>
</ol>
<p><a href="/portal">${bi('住民ポータルへ', 'Go to the resident portal')}</a></p>
</section>
<section class="card" aria-labelledby="towns-h">
<h2 id="towns-h">${bi('参加している自治体', 'Participating municipalities')}</h2>
${
  towns.length === 0
    ? `<p>${bi('準備中です。', 'Coming soon.')}</p>`
    : `<ul class="plain">${towns
        .map((m) => {
          const currencies = p.directory.currencies.filter((c) => c.municipality === m.code);
          const shops = p.directory.merchants.filter((x) => x.municipality === m.code && x.active).length;
          return `<li><h3><a href="/shops?area=${encodeURIComponent(m.code)}">${escapeHtml(m.ja)}</a> <span class="en" lang="en">${escapeHtml(m.en)}</span></h3>
<p class="meta">${currencies.map((c) => `<span class="tag">${escapeHtml(c.name)}</span>`).join('')} ${bi(`協力店舗 ${shops.toLocaleString('ja-JP')} 店`, `${shops.toLocaleString('en')} shops`)}</p></li>`;
        })
        .join('\n')}</ul>`
}
<p class="meta">${bi(`協力店舗は全部で ${shopCount.toLocaleString('ja-JP')} 店です。`, `${shopCount.toLocaleString('en')} participating shops in all.`)}</p>
</section>
<section class="card" aria-labelledby="campaigns-h">
<h2 id="campaigns-h">${bi('実施中のキャンペーン', 'Current campaigns')}</h2>
${
  running.length === 0
    ? `<p>${bi('実施中のキャンペーンはありません。', 'No campaigns are running.')}</p>`
    : `<ul class="plain">${running
        .map((c) => {
          const d = describeCampaign(c);
          const shop = merchantName(c.merchant);
          return `<li><p><strong>${escapeHtml(currencyName(p.directory, c.currency))}</strong>${
            shop
              ? ` — <a href="/shops/${encodeURIComponent(c.merchant!)}">${escapeHtml(shop)}</a>`
              : ` — ${bi('すべての協力店舗', 'every participating shop')}`
          }</p>
<p>${bi(d.ja, d.en)}</p><p class="meta">${time(c.startsAt)}${c.endsAt ? ` 〜 ${time(c.endsAt)}` : ' 〜'}</p></li>`;
        })
        .join('\n')}</ul>`
}
</section>
<section class="card" aria-labelledby="news-h">
<h2 id="news-h">${bi('お知らせ', 'News')}</h2>
${
  news === null || news.length === 0
    ? `<p>${bi('新しいお知らせはありません。', 'No news at the moment.')}</p>`
    : `<ul class="plain">${news
        .map(
          (n) =>
            `<li><p class="meta">${time(n.publishedAt)}</p><p>${n.url ? `<a href="${escapeHtml(n.url)}">` : ''}${escapeHtml(n.title)}${n.titleEn ? ` <span class="en" lang="en">${escapeHtml(n.titleEn)}</span>` : ''}${n.url ? '</a>' : ''}</p></li>`,
        )
        .join('\n')}</ul>`
}
</section>`;
  return publicPage({
    site,
    title: site.ja,
    titleEn: site.en,
    heading: bi(site.ja, site.en),
    canonical: `${p.publicUrl}/`,
    description: `${site.ja}: ポイントのため方・使えるお店・キャンペーン。${site.en}: how to earn, where to spend, campaigns.`,
    current: 'home',
    body,
    jsonLd: [
      {
        '@context': 'https://schema.org',
        '@type': 'WebSite',
        name: site.ja,
        alternateName: site.en,
        url: `${p.publicUrl}/`,
        inLanguage: ['ja', 'en'],
        potentialAction: {
          '@type': 'SearchAction',
          target: `${p.publicUrl}/shops?q={search_term_string}`,
          'query-input': 'required name=search_term_string',
        },
      },
    ],
  });
}

function eventJsonLd(p: PageContext, a: EarnActivity) {
  const m = municipalityName(p.settings, a.municipality);
  return {
    '@context': 'https://schema.org',
    '@type': 'Event',
    '@id': `${p.publicUrl}/earn#activity-${a.id}`,
    name: a.title,
    ...(a.description ? { description: a.description } : {}),
    startDate: a.startsAt,
    ...(a.endsAt ? { endDate: a.endsAt } : {}),
    eventStatus: 'https://schema.org/EventScheduled',
    eventAttendanceMode: 'https://schema.org/OfflineEventAttendanceMode',
    location: {
      '@type': 'Place',
      name: a.placeName ?? m.ja,
      address: {
        '@type': 'PostalAddress',
        addressCountry: 'JP',
        addressLocality: m.ja,
        ...(a.address ? { streetAddress: a.address } : {}),
      },
      ...(a.lat !== null && a.lon !== null
        ? { geo: { '@type': 'GeoCoordinates', latitude: a.lat, longitude: a.lon } }
        : {}),
    },
    organizer: { '@type': 'GovernmentOrganization', name: m.ja },
    isAccessibleForFree: true,
    ...(a.url ? { url: a.url } : {}),
  };
}

export function renderEarnPage(p: PageContext, activities: EarnActivity[]): string {
  const body = `<p>${bi('市の事業・イベント・健診・ボランティア・健康づくりや SDGs の活動に参加するとポイントがたまります。', 'Earn points by taking part in municipal programmes, events, check-ups, volunteering, health and SDGs activities.')}</p>
${
  activities.length === 0
    ? `<p>${bi('予定されている活動はありません。', 'No activities are scheduled.')}</p>`
    : `<ul class="cards">${activities
        .map((a) => {
          const k = earnKind(a.kind);
          const m = municipalityName(p.settings, a.municipality);
          return `<li id="activity-${escapeHtml(a.id)}">
<p class="meta"><span class="tag">${escapeHtml(k.ja)} <span lang="en">/ ${escapeHtml(k.en)}</span></span> ${escapeHtml(m.ja)}</p>
<h2>${escapeHtml(a.title)}${a.titleEn ? ` <span class="en" lang="en">${escapeHtml(a.titleEn)}</span>` : ''}</h2>
<dl class="facts">
<dt>${bi('日時', 'When')}</dt><dd>${time(a.startsAt)}${a.endsAt ? ` 〜 ${time(a.endsAt)}` : ''}</dd>
${a.placeName || a.address ? `<dt>${bi('場所', 'Where')}</dt><dd>${escapeHtml([a.placeName, a.address].filter(Boolean).join('\n'))}</dd>` : ''}
${a.reward ? `<dt>${bi('ポイント', 'Points')}</dt><dd>${escapeHtml(a.reward)}</dd>` : ''}
</dl>
${a.description ? `<p>${escapeHtml(a.description)}</p>` : ''}
${a.url ? `<p><a href="${escapeHtml(a.url)}" rel="noopener">${bi('詳しく見る', 'Details')}<span class="visually-hidden">: ${escapeHtml(a.title)}</span></a></p>` : ''}
</li>`;
        })
        .join('\n')}</ul>`
}`;
  return publicPage({
    site: p.settings.siteName,
    title: 'ポイントをためる',
    titleEn: 'Where to earn points',
    canonical: `${p.publicUrl}/earn`,
    description: 'ポイントがたまる市の事業・イベント・活動。Municipal activities that grant points.',
    current: 'earn',
    body,
    jsonLd: activities.map((a) => eventJsonLd(p, a)),
  });
}

export interface DatasetEntry {
  identifier: string;
  title: string;
  description?: string | null;
  publisher?: string | null;
  license?: string | null;
  modified: string;
  keyword?: string[] | null;
  distribution: Array<{ title: string; mediaType: string; downloadURL?: string; accessURL?: string }>;
}

export function renderOpendataPage(
  p: PageContext,
  datasets: DatasetEntry[] | null,
  charts: Array<{ token: string; title: string; publishedAt: string }> | null,
): string {
  const body = `<p>${bi('市が公開しているデータと、集計したグラフです。', 'Data the city publishes and charts of aggregate figures.')}</p>
<section class="card" aria-labelledby="datasets-h">
<h2 id="datasets-h">${bi('データセット', 'Datasets')}</h2>
<p class="meta">${bi('機械で読める一覧（DCAT 形式の JSON）', 'Machine-readable catalogue (DCAT-style JSON)')}: <a href="/api/opendata/catalog">/api/opendata/catalog</a></p>
${
  !datasets || datasets.length === 0
    ? `<p>${bi('公開中のデータセットはありません。', 'No datasets are published.')}</p>`
    : `<ul class="plain">${datasets
        .map(
          (d) => `<li><h3>${escapeHtml(d.title)}</h3>
${d.description ? `<p>${escapeHtml(d.description)}</p>` : ''}
<p class="meta">${bi('提供', 'Publisher')}: ${escapeHtml(d.publisher ?? '')} · ${bi('更新', 'Updated')}: ${time(d.modified)}${d.license ? ` · ${bi('ライセンス', 'Licence')}: ${/^https?:/.test(d.license) ? `<a href="${escapeHtml(d.license)}">${escapeHtml(d.license)}</a>` : escapeHtml(d.license)}` : ''}</p>
${d.keyword?.length ? `<p class="meta">${d.keyword.map((k) => `<span class="tag">${escapeHtml(k)}</span>`).join('')}</p>` : ''}
<ul>${d.distribution
            .map(
              (x) =>
                `<li><a href="${escapeHtml(x.downloadURL ?? x.accessURL ?? '#')}">${escapeHtml(x.title)}<span class="visually-hidden">: ${escapeHtml(d.title)}</span></a> <span class="meta">(${escapeHtml(x.mediaType)})</span></li>`,
            )
            .join('')}</ul></li>`,
        )
        .join('\n')}</ul>`
}
</section>
<section class="card" aria-labelledby="charts-h">
<h2 id="charts-h">${bi('公開グラフ', 'Published charts')}</h2>
<p class="meta">${bi('人数が少ない集計値は個人が特定されないよう表示していません（小さなセルの秘匿）。', 'Figures based on too few people are left out so no one can be identified (small-cell suppression).')}</p>
${
  !charts || charts.length === 0
    ? `<p>${bi('公開中のグラフはありません。', 'No charts are published.')}</p>`
    : `<ul class="plain">${charts
        .map(
          (c) =>
            `<li><p><a href="/public/dashboards/charts/${encodeURIComponent(c.token)}/page">${escapeHtml(c.title)}</a> <span class="meta">(${time(c.publishedAt)})</span></p>
<p class="meta"><a href="/public/dashboards/charts/${encodeURIComponent(c.token)}/data.csv">CSV<span class="visually-hidden">: ${escapeHtml(c.title)}</span></a> · <a href="/public/dashboards/charts/${encodeURIComponent(c.token)}">JSON<span class="visually-hidden">: ${escapeHtml(c.title)}</span></a></p></li>`,
        )
        .join('\n')}</ul>`
}
</section>`;
  return publicPage({
    site: p.settings.siteName,
    title: 'オープンデータ',
    titleEn: 'Open data',
    canonical: `${p.publicUrl}/opendata`,
    description: '公開データセットと公開グラフ。Published datasets and charts.',
    current: 'opendata',
    body,
    jsonLd: (datasets ?? []).map((d) => ({
      '@context': 'https://schema.org',
      '@type': 'Dataset',
      name: d.title,
      ...(d.description ? { description: d.description } : {}),
      ...(d.license ? { license: d.license } : {}),
      dateModified: d.modified,
      ...(d.keyword?.length ? { keywords: d.keyword } : {}),
      distribution: d.distribution
        .filter((x) => x.downloadURL)
        .map((x) => ({ '@type': 'DataDownload', encodingFormat: x.mediaType, contentUrl: x.downloadURL })),
    })),
  });
}

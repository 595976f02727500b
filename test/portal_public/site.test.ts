/**
 * The public site over HTTP: home (municipalities, campaigns), search filters, cache headers with
 * ETag revalidation, schema.org JSON-LD, where to earn (staff API → page), sitemap and robots, the
 * map's GeoJSON and Leaflet served from node_modules.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DashboardsServices } from '../../dashboards/index.ts';
import type { PointsService } from '../../points/index.ts';
import { send } from '../support/http.ts';
import type { TestPlatform } from '../support/platform.ts';
import { publishProfiles, STAFF, seedTowns, startPublicSite, TOWN_SHOPS } from './fixtures.ts';

function jsonLd(html: string): Array<Record<string, any>> {
  return [...html.matchAll(/<script type="application\/ld\+json">(.*?)<\/script>/gs)].map((m) =>
    JSON.parse(m[1]!),
  );
}

async function names(t: TestPlatform, query: string): Promise<string[]> {
  const html = await (await fetch(`${t.url}/shops${query}`)).text();
  return [...html.matchAll(/<h3><a href="\/shops\/[^"]+">([^<]+)<\/a>/g)].map((m) => m[1]!);
}

describe('public site over HTTP', () => {
  let t: TestPlatform;
  before(async () => {
    t = await startPublicSite();
    await seedTowns(t, 4);
    await publishProfiles(t, TOWN_SHOPS);
    const points = t.platform.services['points'] as PointsService;
    const day = 86_400_000;
    await points.createCampaign(
      {
        currency: 'saijo-lsp',
        code: 'autumn',
        kind: 'limited',
        pointType: 'event',
        rateBp: 1000,
        perTxnCap: 500,
        startsAt: new Date(Date.now() - day).toISOString(),
        endsAt: new Date(Date.now() + 10 * day).toISOString(),
      },
      'staff:test',
    );
    await points.createCampaign(
      {
        currency: 'saijo-lsp',
        code: 's1-cashback',
        kind: 'permanent',
        merchant: 's1',
        pointType: 'event',
        rateBp: 200,
        startsAt: new Date(Date.now() - day).toISOString(),
      },
      'staff:test',
    );
  });
  after(() => t.stop());

  it('home: what the service is, every municipality with its currency, current campaigns', async () => {
    const res = await fetch(`${t.url}/`);
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /<html lang="ja">/);
    assert.match(html, /参加するには/);
    assert.ok(html.indexOf('西条市') < html.indexOf('新居浜市'), 'configured order');
    assert.match(html, /Saijo City/);
    assert.match(html, /にいはまポイント/);
    assert.match(html, /お支払いの 10% をポイント還元（1回 500 ポイントまで）/);
    assert.match(html, /10% back in points \(up to 500 points per payment\)/);
    assert.match(html, /<a href="\/shops\/s1">駅前珈琲<\/a>/);
    assert.match(html, /新しいお知らせはありません/);
    assert.equal(jsonLd(html)[0]!['@type'], 'WebSite');
  });

  it('searches by name (kana, NFKC), category and area; pages through results', async () => {
    assert.deepEqual(await names(t, '?q=%E3%81%88%E3%81%8D%E3%81%BE%E3%81%88'), ['駅前珈琲', '駅前青果']);
    assert.deepEqual(await names(t, `?q=${encodeURIComponent('ｶﾌｪ')}`), ['丹原カフェ', '新居浜カフェ']);
    // Ordered by the kana reading: え, た, に.
    assert.deepEqual(await names(t, '?category=cafe'), ['駅前珈琲', '丹原カフェ', '新居浜カフェ']);
    assert.deepEqual(await names(t, '?category=cafe&area=niihama'), ['新居浜カフェ']);
    assert.deepEqual(await names(t, `?area=${encodeURIComponent('saijo/駅前')}`), ['駅前珈琲', '駅前青果']);
    assert.deepEqual(await names(t, '?q=%25'), [], 'LIKE wildcards are literal');
    assert.deepEqual(await names(t, '?category=not-a-category&page=x'), (await names(t, '')).slice(0, 20));
    // s4 has no approved entry yet: listed under its ledger name, uncategorised.
    assert.ok((await names(t, '')).includes('西条の店4'));
  });

  it('shop page: accepted currencies and point types, campaigns, LocalBusiness JSON-LD; unknown shop is 404', async () => {
    const html = await (await fetch(`${t.url}/shops/s1`)).text();
    assert.match(html, /LOVESAIJO ポイント/);
    assert.match(html, /イベントポイント/);
    assert.match(html, /チャージ/);
    assert.doesNotMatch(html, /にいはまポイント/);
    assert.match(html, /お支払いの 2% をポイント還元/);
    assert.match(html, /お支払いの 10% をポイント還元/);
    const [ld] = jsonLd(html);
    assert.equal(ld!['@type'], 'LocalBusiness');
    assert.equal(ld!.address.addressLocality, '西条市');
    assert.equal(ld!.paymentAccepted, 'LOVESAIJO ポイント');
    const other = await fetch(`${t.url}/shops/n1`);
    assert.doesNotMatch(await other.text(), /お支払いの 10%/, 'the Saijo campaign does not apply in Niihama');
    const missing = await send(`${t.url}/shops/nope`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'not-found');
  });

  it('caches public pages with an ETag and answers 304 when unchanged', async () => {
    for (const path of ['/', '/shops?category=cafe', '/shops/s1', '/earn', '/opendata', '/sitemap.xml']) {
      const first = await fetch(`${t.url}${path}`);
      assert.equal(first.status, 200, path);
      assert.match(first.headers.get('cache-control') ?? '', /^public, max-age=\d+$/, path);
      const etag = first.headers.get('etag');
      assert.ok(etag, path);
      // fetch() adds `Cache-Control: no-cache` to a conditional request unless told otherwise (as a browser revalidating would not).
      const again = await fetch(`${t.url}${path}`, {
        headers: { 'if-none-match': etag, 'cache-control': 'max-age=0' },
      });
      assert.equal(again.status, 304, path);
    }
    const leaflet = await fetch(`${t.url}/static/public/leaflet-1.9.4/leaflet.js`);
    assert.equal(leaflet.status, 200);
    assert.match(leaflet.headers.get('cache-control') ?? '', /immutable/);
    assert.match(await leaflet.text(), /Leaflet 1\.9\.4/);
    assert.equal((await fetch(`${t.url}/static/public/leaflet-1.9.4/images/marker-icon.png`)).status, 200);
    assert.equal((await fetch(`${t.url}/static/public/leaflet-1.9.4/../../../package.json`)).status, 404);
    assert.equal((await fetch(`${t.url}/static/public/map.js`)).status, 200);
    const css = /<link rel="stylesheet" href="(\/static\/public\/site-[0-9a-f]{12}\.css)">/.exec(
      await (await fetch(`${t.url}/earn`)).text(),
    )![1]!;
    const style = await fetch(`${t.url}${css}`);
    assert.equal(style.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.match(style.headers.get('content-type') ?? '', /^text\/css/);
  });

  it('serves the map data: shops as GeoJSON with the same filters, boundary layers', async () => {
    const shops = await send(`${t.url}/shops/map.geojson?category=cafe&area=saijo`);
    assert.equal(shops.status, 200);
    assert.match(shops.headers.get('content-type') ?? '', /application\/geo\+json/);
    const geo = shops.body;
    assert.deepEqual(
      geo.features.map((f: any) => [f.id, f.geometry.coordinates]),
      [
        ['s1', [133.1812, 33.9196]],
        ['s3', [133.0944, 33.8913]],
      ],
    );
    const bounds = (await send(`${t.url}/shops/boundaries.geojson`)).body;
    assert.equal(bounds.features.length, 2);
  });

  it('where to earn: staff add activities (validated, audited); the page lists them with Event JSON-LD', async () => {
    const body = {
      municipality: 'saijo',
      kind: 'volunteer',
      title: '海岸清掃ボランティア',
      titleEn: 'Beach clean-up',
      startsAt: new Date(Date.now() + 3 * 86_400_000).toISOString(),
      endsAt: new Date(Date.now() + 3 * 86_400_000 + 7_200_000).toISOString(),
      placeName: '西条海岸',
      lat: 33.93,
      lon: 133.17,
      reward: '300ポイント',
    };
    const refused = await send(`${t.url}/api/admin/portal/directory/earn-activities`, {
      method: 'POST',
      body,
    });
    assert.equal(refused.status, 401);
    const bad = await send(`${t.url}/api/admin/portal/directory/earn-activities`, {
      method: 'POST',
      headers: STAFF,
      body: { ...body, endsAt: new Date(Date.now()).toISOString() },
    });
    assert.equal(bad.status, 400);
    const { rows } = await t.platform.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM portal.earn_activities',
    );
    assert.equal(rows[0]!.n, 0);
    const created = await send(`${t.url}/api/admin/portal/directory/earn-activities`, {
      method: 'POST',
      headers: STAFF,
      body,
    });
    assert.equal(created.status, 201);
    const past = await send(`${t.url}/api/admin/portal/directory/earn-activities`, {
      method: 'POST',
      headers: STAFF,
      body: {
        ...body,
        title: '終わった講座',
        startsAt: '2020-01-01T00:00:00Z',
        endsAt: '2020-01-02T00:00:00Z',
      },
    });
    assert.equal(past.status, 201);

    const html = await (await fetch(`${t.url}/earn`)).text();
    assert.match(html, /海岸清掃ボランティア/);
    assert.doesNotMatch(html, /終わった講座/);
    const [event] = jsonLd(html);
    assert.equal(event!['@type'], 'Event');
    assert.equal(event!.name, '海岸清掃ボランティア');
    assert.equal(event!.startDate, body.startsAt.replace(/\.\d{3}Z$/, 'Z'));
    assert.equal(event!.location.name, '西条海岸');
    assert.deepEqual(event!.location.geo, { '@type': 'GeoCoordinates', latitude: 33.93, longitude: 133.17 });

    const hidden = await send(`${t.url}/api/admin/portal/directory/earn-activities/${created.body.id}`, {
      method: 'PUT',
      headers: STAFF,
      body: { ...body, published: false },
    });
    assert.equal(hidden.status, 200);
    assert.doesNotMatch(await (await fetch(`${t.url}/earn`)).text(), /海岸清掃ボランティア/);
    const audit = await t.platform.db.query<{ action: string }>(
      `SELECT action FROM core.audit_log WHERE action LIKE 'portal.earn-activity.%' ORDER BY seq`,
    );
    assert.deepEqual(
      audit.rows.map((r) => r.action),
      ['portal.earn-activity.create', 'portal.earn-activity.create', 'portal.earn-activity.update'],
    );
  });

  it('publishes a sitemap of every page and shop, and robots.txt pointing to it', async () => {
    const sitemap = await (await fetch(`${t.url}/sitemap.xml`)).text();
    const base = t.platform.config.publicUrl;
    for (const loc of ['/', '/shops', '/earn', '/opendata', '/shops/s1', '/shops/n1', '/shops/s4'])
      assert.ok(sitemap.includes(`<url><loc>${base}${loc}</loc>`), loc);
    assert.equal(sitemap.match(/<url>/g)?.length, 4 + 5, 'four pages and five shops');
    const robots = await fetch(`${t.url}/robots.txt`);
    assert.equal(robots.headers.get('content-type'), 'text/plain; charset=utf-8');
    const text = await robots.text();
    assert.match(text, /Disallow: \/api\//);
    assert.ok(text.includes(`Sitemap: ${base}/sitemap.xml`));
  });

  it('open data: lists charts published to residents (not to partners, not revoked)', async () => {
    const { catalogue } = t.platform.services['dashboards'] as DashboardsServices;
    const definition = {
      view: 'broker_entity_types',
      chartType: 'bar' as const,
      dimensions: ['entity_type'],
      measures: [{ column: 'entities', aggregate: 'sum' as const }],
      filters: [],
    };
    const residents = await catalogue.createChart(
      { title: 'データの種類ごとの件数', definition },
      'staff:test',
    );
    const partners = await catalogue.createChart({ title: '連携先向けの集計', definition }, 'staff:test');
    const withdrawn = await catalogue.createChart({ title: '取り下げたグラフ', definition }, 'staff:test');
    const shown = await catalogue.publish(residents.id, { audience: 'residents' }, 'staff:test');
    await catalogue.publish(partners.id, { audience: 'partners' }, 'staff:test');
    const revoked = await catalogue.publish(withdrawn.id, { audience: 'residents' }, 'staff:test');
    await catalogue.revoke(revoked.token, 'staff:test');

    const html = await (await fetch(`${t.url}/opendata`)).text();
    assert.match(html, /データの種類ごとの件数/);
    assert.ok(html.includes(`href="/public/dashboards/charts/${shown.token}/page"`));
    assert.ok(html.includes(`href="/public/dashboards/charts/${shown.token}/data.csv"`));
    assert.doesNotMatch(html, /連携先向けの集計|取り下げたグラフ/);
    assert.match(html, /小さなセルの秘匿|small-cell suppression/);
    assert.match(html, /公開中のデータセットはありません/);
    assert.equal((await fetch(`${t.url}/public/dashboards/charts/${shown.token}/page`)).status, 200);
  });

  it('leaves paths it does not serve to the rest of the platform', async () => {
    assert.equal((await send(`${t.url}/healthz`)).status, 200);
    const missing = await send(`${t.url}/no-such-page`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'not-found');
  });
});

/**
 * Boundary layers and entities per area, hand-counted: the layer API checks GeoJSON and changes
 * nothing when refused; entities are counted per area (geo:json and geo:point locations, an
 * outside point under '', no location left off); map charts need an existing layer; heat maps two
 * dimensions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { send } from '../support/http.ts';
import { type Fixture, startDashboards } from './fixtures.ts';
import { BOUNDARIES, seedEntities } from './geo_fixtures.ts';

describe('boundary layers, entities per area, map and heat map charts', () => {
  let f: Fixture;
  let api: string;
  before(async () => {
    f = await startDashboards();
    await seedEntities(f);
    api = `${f.t.url}/api/dashboards`;
  });
  after(() => f.t.stop());

  it('refuses a layer that is not usable GeoJSON and stores nothing', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ type: 'Feature' }, /FeatureCollection/],
      [{ ...BOUNDARIES, features: [{ ...BOUNDARIES.features[0], properties: {} }] }, /no KEY_CODE/],
      [{ ...BOUNDARIES, features: [BOUNDARIES.features[0], BOUNDARIES.features[0]] }, /appears twice/],
      [
        {
          type: 'FeatureCollection',
          features: [
            {
              type: 'Feature',
              properties: { KEY_CODE: '1' },
              geometry: { type: 'Point', coordinates: [133, 33] },
            },
          ],
        },
        /Polygon or MultiPolygon/,
      ],
    ];
    for (const [geojson, detail] of cases) {
      const res = await send(`${api}/boundaries/chome`, {
        method: 'PUT',
        headers: f.maintainer,
        body: { title: '町丁目', areaProperty: 'KEY_CODE', geojson },
      });
      assert.equal(res.status, 422);
      assert.equal(res.body.code, 'invalid-boundaries');
      assert.match(res.body.detail, detail);
    }
    const viewer = await send(`${api}/boundaries/chome`, {
      method: 'PUT',
      headers: f.viewer,
      body: { title: '町丁目', areaProperty: 'KEY_CODE', geojson: BOUNDARIES },
    });
    assert.equal(viewer.status, 403);
    assert.deepEqual((await send(`${api}/boundaries`, { headers: f.viewer })).body, { layers: [] });
  });

  it('stores a layer normalised to properties.area and name', async () => {
    const res = await send(`${api}/boundaries/chome`, {
      method: 'PUT',
      headers: f.maintainer,
      body: { title: '町丁目', areaProperty: 'KEY_CODE', nameProperty: 'S_NAME', geojson: BOUNDARIES },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.areas, 2);
    const layer = await send(`${api}/boundaries/chome`, { headers: f.viewer });
    assert.equal(layer.headers.get('content-type'), 'application/geo+json; charset=utf-8');
    assert.deepEqual(
      layer.body.features.map((x: { properties: unknown }) => x.properties),
      [
        { area: '3820601', name: '大町' },
        { area: '3820602', name: '神拝' },
      ],
    );
  });

  it('counts located entities per area and type (hand-counted)', async () => {
    const res = await send(`${api}/refresh/areas`, {
      method: 'POST',
      headers: f.maintainer,
      body: { layer: 'chome' },
    });
    assert.equal(res.status, 200);
    const q = await send(`${api}/views/broker_entities_area/query`, {
      method: 'POST',
      headers: f.viewer,
      body: { chartType: 'table', dimensions: ['area', 'entity_type'], measures: [{ column: 'entities' }] },
    });
    assert.deepEqual(q.body.rows, [
      { area: '', entity_type: 'AED', entities: 1 },
      { area: '3820601', entity_type: 'AED', entities: 3 },
      { area: '3820602', entity_type: 'EvacuationShelter', entities: 1 },
    ]);
    const missing = await send(`${api}/refresh/areas`, {
      method: 'POST',
      headers: f.maintainer,
      body: { layer: 'nope' },
    });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'layer-not-found');
  });

  it('lists located entities as GeoJSON points', async () => {
    const res = await send(`${api}/map/entities?type=AED`, { headers: f.viewer });
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.features.map((x: { properties: { id: string }; geometry: { coordinates: number[] } }) => [
        x.properties.id,
        x.geometry.coordinates,
      ]),
      [
        ['AED:1', [133.185, 33.905]],
        ['AED:2', [133.19, 33.91]],
        ['AED:3', [133.195, 33.915]],
        ['AED:4', [133.3, 33.95]],
      ],
    );
  });

  it('a map chart names an existing layer; its Vega-Lite spec looks rows up by area', async () => {
    const definition = {
      view: 'broker_entities_area',
      chartType: 'map',
      dimensions: ['area'],
      measures: [{ column: 'entities' }],
      layer: 'chome',
    };
    const noLayer = await send(`${api}/charts`, {
      method: 'POST',
      headers: f.maintainer,
      body: { title: 'AED', definition: { ...definition, layer: 'nope' } },
    });
    assert.equal(noLayer.status, 404);
    assert.equal(noLayer.body.code, 'layer-not-found');
    const wrongDim = await send(`${api}/charts`, {
      method: 'POST',
      headers: f.maintainer,
      body: { title: 'AED', definition: { ...definition, dimensions: ['entity_type'] } },
    });
    assert.equal(wrongDim.status, 422);
    assert.equal((await send(`${api}/charts`, { headers: f.viewer })).body.charts.length, 0);
    const chart = await send(`${api}/charts`, {
      method: 'POST',
      headers: f.maintainer,
      body: { title: '地区別AED', definition },
    });
    assert.equal(chart.status, 201);
    assert.equal(chart.body.vegaLite.mark.type, 'geoshape');
    assert.deepEqual(chart.body.vegaLite.transform[0].from, {
      data: { name: 'rows' },
      key: 'area',
      fields: ['entities'],
    });
    const preview = await send(`${api}/views/broker_entities_area/preview`, {
      method: 'POST',
      headers: f.viewer,
      body: { ...definition, view: undefined, title: '地区別' },
    });
    assert.equal(preview.status, 200);
    assert.equal((preview.body.html.match(/<path class="mark" data-area=/g) ?? []).length, 2);
    assert.match(preview.body.html, /大町: 3/);
  });

  it('a heat map takes two dimensions and one measure', async () => {
    const bad = await send(`${api}/views/broker_entities_area/query`, {
      method: 'POST',
      headers: f.viewer,
      body: { chartType: 'heatmap', dimensions: ['area'], measures: [{ column: 'entities' }] },
    });
    assert.equal(bad.status, 422);
    const good = await send(`${api}/views/broker_entities_area/preview`, {
      method: 'POST',
      headers: f.viewer,
      body: { chartType: 'heatmap', dimensions: ['area', 'entity_type'], measures: [{ column: 'entities' }] },
    });
    assert.equal(good.status, 200);
    assert.equal((good.body.html.match(/<rect class="mark"/g) ?? []).length, 3);
  });
});

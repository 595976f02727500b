/**
 * Two square areas side by side near Saijo (西条市) as a boundary layer, and located NGSIv2
 * entities: three AEDs in area A (one given as geo:point), one shelter in area B, one AED outside
 * both, and one entity with no location (left off maps).
 */
import type { BrokerServices } from '../../broker/index.ts';
import type { Fixture } from './fixtures.ts';

const square = (x0: number, y0: number, size: number) => [
  [
    [x0, y0],
    [x0 + size, y0],
    [x0 + size, y0 + size],
    [x0, y0 + size],
    [x0, y0],
  ],
];

export const BOUNDARIES = {
  type: 'FeatureCollection',
  features: [
    {
      type: 'Feature',
      properties: { KEY_CODE: '3820601', S_NAME: '大町' },
      geometry: { type: 'Polygon', coordinates: square(133.18, 33.9, 0.02) },
    },
    {
      type: 'Feature',
      properties: { KEY_CODE: '3820602', S_NAME: '神拝' },
      geometry: { type: 'Polygon', coordinates: square(133.2, 33.9, 0.02) },
    },
  ],
};

const point = (lon: number, lat: number) => ({
  type: 'geo:json',
  value: { type: 'Point', coordinates: [lon, lat] },
});

export async function seedEntities(f: Fixture): Promise<void> {
  const ngsi = (f.t.platform.services['broker'] as BrokerServices).client();
  await ngsi.upsertEntity({
    id: 'AED:1',
    type: 'AED',
    name: { type: 'Text', value: '市役所AED' },
    location: point(133.185, 33.905),
  });
  await ngsi.upsertEntity({
    id: 'AED:2',
    type: 'AED',
    name: { type: 'Text', value: '駅前AED' },
    location: point(133.19, 33.91),
  });
  await ngsi.upsertEntity({
    id: 'AED:3',
    type: 'AED',
    name: { type: 'Text', value: '公園AED' },
    location: { type: 'geo:point', value: '33.915, 133.195' },
  });
  await ngsi.upsertEntity({
    id: 'AED:4',
    type: 'AED',
    name: { type: 'Text', value: '郊外AED' },
    location: point(133.3, 33.95),
  });
  await ngsi.upsertEntity({
    id: 'Shelter:1',
    type: 'EvacuationShelter',
    name: { type: 'Text', value: '神拝小学校' },
    location: point(133.21, 33.91),
  });
  await ngsi.upsertEntity({ id: 'Notice:1', type: 'Notice', name: { type: 'Text', value: 'お知らせ' } });
}

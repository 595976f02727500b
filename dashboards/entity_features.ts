/**
 * NGSIv2 entities with a location, read through the broker service (embedded or an external
 * Orion), as GeoJSON points for maps and as counts per boundary area for breakdowns. Pages through
 * the broker 1000 entities at a time.
 */
import type { BrokerServices, NgsiEntity } from '../broker/index.ts';
import { areaOf, type BoundaryCollection, entityPoint, type Position } from './geo.ts';

const PAGE = 1000;

export interface EntityFeature {
  type: 'Feature';
  geometry: { type: 'Point'; coordinates: Position };
  properties: { id: string; type: string; name: string };
}

/** Entities of a tenant ('' = default) with a usable location, optionally of one type, up to `limit`. */
export async function* locatedEntities(
  broker: BrokerServices,
  input: { service: string; type?: string; limit?: number },
): AsyncGenerator<{ entity: NgsiEntity; point: Position }> {
  const client = broker.client(input.service ? { service: input.service } : {});
  const limit = input.limit ?? Number.POSITIVE_INFINITY;
  let yielded = 0;
  for (let offset = 0; ; offset += PAGE) {
    const { entities } = await client.listEntities({
      ...(input.type ? { type: input.type } : {}),
      limit: PAGE,
      offset,
      orderBy: 'id',
    });
    for (const entity of entities) {
      const point = entityPoint(entity);
      if (!point) continue;
      yield { entity, point };
      if (++yielded >= limit) return;
    }
    if (entities.length < PAGE) return;
  }
}

function nameOf(entity: NgsiEntity): string {
  const raw = entity['name'] as { value?: unknown } | string | undefined;
  const value = typeof raw === 'object' && raw !== null ? raw.value : raw;
  return typeof value === 'string' ? value : entity.id;
}

export async function entityFeatures(
  broker: BrokerServices,
  input: { service: string; type?: string; limit: number },
): Promise<{ type: 'FeatureCollection'; features: EntityFeature[] }> {
  const features: EntityFeature[] = [];
  for await (const { entity, point } of locatedEntities(broker, input))
    features.push({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: point },
      properties: { id: entity.id, type: entity.type, name: nameOf(entity) },
    });
  return { type: 'FeatureCollection', features };
}

/** Entities per (area, type) of one tenant; entities outside every area are counted under ''. */
export async function countEntitiesPerArea(
  broker: BrokerServices,
  service: string,
  layer: BoundaryCollection,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for await (const { entity, point } of locatedEntities(broker, { service })) {
    const key = JSON.stringify([areaOf(point, layer) ?? '', entity.type]);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/**
 * Geographical queries without PostGIS: an entity's location (its one geo attribute) is kept as a
 * GeoJSON geometry plus its bounding box; queries prefilter on the bounding box in SQL and decide
 * exactly here. Coordinates are [longitude, latitude] as in GeoJSON; `coords` in requests are
 * `lat,lon` pairs as in Orion. Distances are great-circle metres; shape relations are planar on
 * longitude/latitude, which is what MongoDB (Orion's store) does for small shapes too.
 */
import { badRequest, OrionError } from '../errors.ts';
import type { JsonValue, StoredAttr } from '../model.ts';

export type Position = [number, number];

export interface Geometry {
  type: string;
  coordinates?: JsonValue;
  geometries?: Geometry[];
}

export interface Location {
  geometry: Geometry;
  /** [minLon, minLat, maxLon, maxLat] */
  bbox: [number, number, number, number];
}

export const GEO_TYPES = ['geo:json', 'geo:point', 'geo:line', 'geo:box', 'geo:polygon'];

function parseLatLon(text: unknown): Position {
  if (typeof text !== 'string') throw badRequest('geo coordinates format error [see Orion user manual]');
  const parts = text.split(',').map((p) => Number(p.trim()));
  if (
    parts.length !== 2 ||
    parts.some((n) => !Number.isFinite(n)) ||
    Math.abs(parts[0]!) > 90 ||
    Math.abs(parts[1]!) > 180
  ) {
    throw badRequest('geo coordinates format error [see Orion user manual]');
  }
  return [parts[1]!, parts[0]!];
}

function box(a: Position, b: Position): Geometry {
  const [minLon, maxLon] = [Math.min(a[0], b[0]), Math.max(a[0], b[0])];
  const [minLat, maxLat] = [Math.min(a[1], b[1]), Math.max(a[1], b[1])];
  return {
    type: 'Polygon',
    coordinates: [
      [
        [minLon, minLat],
        [maxLon, minLat],
        [maxLon, maxLat],
        [minLon, maxLat],
        [minLon, minLat],
      ],
    ],
  };
}

function fromGeoJson(value: JsonValue): Geometry {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw badRequest('invalid geo:json value');
  const v = value as Record<string, JsonValue>;
  if (v['type'] === 'Feature') return fromGeoJson(v['geometry'] ?? null);
  if (v['type'] === 'FeatureCollection') {
    const features = v['features'];
    if (!Array.isArray(features) || features.length !== 1) {
      throw badRequest('FeatureCollection with more than one feature is not supported');
    }
    return fromGeoJson(features[0]!);
  }
  const types = ['Point', 'MultiPoint', 'LineString', 'MultiLineString', 'Polygon', 'MultiPolygon'];
  if (typeof v['type'] !== 'string' || !types.includes(v['type']) || !Array.isArray(v['coordinates'])) {
    throw badRequest('invalid geo:json value');
  }
  const geometry = { type: v['type'], coordinates: v['coordinates'] };
  for (const p of positionsOf(geometry)) {
    if (p.length < 2 || !Number.isFinite(p[0]) || !Number.isFinite(p[1]))
      throw badRequest('invalid geo:json value');
  }
  return geometry;
}

/** The GeoJSON geometry of a location attribute (any of Orion's geo types). */
export function geometryOf(attr: Pick<StoredAttr, 'type' | 'value'>): Geometry {
  const v = attr.value;
  switch (attr.type) {
    case 'geo:point':
      return { type: 'Point', coordinates: parseLatLon(v) };
    case 'geo:line':
      if (!Array.isArray(v) || v.length < 2) throw badRequest('geo:line needs at least two points');
      return { type: 'LineString', coordinates: v.map(parseLatLon) };
    case 'geo:box': {
      if (!Array.isArray(v) || v.length !== 2) throw badRequest('geo:box needs exactly two points');
      return box(parseLatLon(v[0]), parseLatLon(v[1]));
    }
    case 'geo:polygon': {
      if (!Array.isArray(v) || v.length < 4) throw badRequest('geo:polygon needs at least four points');
      return { type: 'Polygon', coordinates: [v.map(parseLatLon)] };
    }
    default:
      return fromGeoJson(v);
  }
}

/** The entity's location, from its one geo attribute (more than one → 413, as Orion). */
export function locationOf(
  attrs: Record<string, Pick<StoredAttr, 'type' | 'value' | 'metadata'>>,
): Location | null {
  const geo = Object.values(attrs).filter(
    (a) => GEO_TYPES.includes(a.type) && a.metadata['ignoreType']?.value !== true && a.value !== null,
  );
  if (geo.length === 0) return null;
  if (geo.length > 1) {
    throw new OrionError(
      413,
      'NoResourcesAvailable',
      'You cannot use more than one geo location attribute when creating an entity [see Orion user manual]',
    );
  }
  const geometry = geometryOf(geo[0]!);
  return { geometry, bbox: bboxOf(positionsOf(geometry)) };
}

function positionsOf(g: Geometry): Position[] {
  const out: Position[] = [];
  const walk = (c: JsonValue | undefined): void => {
    if (!Array.isArray(c)) return;
    if (typeof c[0] === 'number') out.push([c[0] as number, c[1] as number]);
    else for (const x of c) walk(x);
  };
  walk(g.coordinates);
  return out;
}

function bboxOf(points: Position[]): [number, number, number, number] {
  let [minLon, minLat, maxLon, maxLat] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [lon, lat] of points) {
    minLon = Math.min(minLon, lon);
    maxLon = Math.max(maxLon, lon);
    minLat = Math.min(minLat, lat);
    maxLat = Math.max(maxLat, lat);
  }
  return [minLon, minLat, maxLon, maxLat];
}

interface Shape {
  points: Position[];
  segments: Array<[Position, Position]>;
  /** polygons as rings (first = outer) */
  polygons: Position[][][];
}

function shapeOf(g: Geometry): Shape {
  const shape: Shape = { points: [], segments: [], polygons: [] };
  const line = (c: Position[]) => {
    for (let i = 0; i + 1 < c.length; i++) shape.segments.push([c[i]!, c[i + 1]!]);
  };
  const c = g.coordinates as unknown;
  switch (g.type) {
    case 'Point':
      shape.points.push(c as Position);
      break;
    case 'MultiPoint':
      shape.points.push(...(c as Position[]));
      break;
    case 'LineString':
      shape.points.push(...(c as Position[]));
      line(c as Position[]);
      break;
    case 'MultiLineString':
      for (const l of c as Position[][]) {
        shape.points.push(...l);
        line(l);
      }
      break;
    case 'Polygon':
      shape.polygons.push(c as Position[][]);
      for (const ring of c as Position[][]) {
        shape.points.push(...ring);
        line(ring);
      }
      break;
    case 'MultiPolygon':
      for (const poly of c as Position[][][]) {
        shape.polygons.push(poly);
        for (const ring of poly) {
          shape.points.push(...ring);
          line(ring);
        }
      }
      break;
  }
  return shape;
}

function inRing(p: Position, ring: Position[]): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i]!;
    const [xj, yj] = ring[j]!;
    if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function onSegment(p: Position, [a, b]: [Position, Position]): boolean {
  const cross = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
  if (Math.abs(cross) > 1e-12) return false;
  return (
    p[0] >= Math.min(a[0], b[0]) &&
    p[0] <= Math.max(a[0], b[0]) &&
    p[1] >= Math.min(a[1], b[1]) &&
    p[1] <= Math.max(a[1], b[1])
  );
}

function inPolygon(p: Position, rings: Position[][]): boolean {
  const [outer, ...holes] = rings;
  if (!outer) return false;
  for (let i = 0; i + 1 < outer.length; i++) if (onSegment(p, [outer[i]!, outer[i + 1]!])) return true;
  return inRing(p, outer) && !holes.some((h) => inRing(p, h));
}

function segmentsCross([a, b]: [Position, Position], [c, d]: [Position, Position]): boolean {
  const orient = (p: Position, q: Position, r: Position) =>
    Math.sign((q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]));
  const o1 = orient(a, b, c);
  const o2 = orient(a, b, d);
  const o3 = orient(c, d, a);
  const o4 = orient(c, d, b);
  if (o1 !== o2 && o3 !== o4) return true;
  return onSegment(c, [a, b]) || onSegment(d, [a, b]) || onSegment(a, [c, d]) || onSegment(b, [c, d]);
}

function covered(inner: Shape, outer: Shape): boolean {
  if (outer.polygons.length === 0) {
    // Covered by a point or a line: every point of the entity lies on it.
    return inner.points.every(
      (p) =>
        outer.points.some((q) => q[0] === p[0] && q[1] === p[1]) ||
        outer.segments.some((s) => onSegment(p, s)),
    );
  }
  if (!inner.points.every((p) => outer.polygons.some((poly) => inPolygon(p, poly)))) return false;
  // No edge of the entity may leave the area through a boundary crossing.
  return inner.segments.every((s) => {
    const mid: Position = [(s[0][0] + s[1][0]) / 2, (s[0][1] + s[1][1]) / 2];
    return outer.polygons.some((poly) => inPolygon(mid, poly));
  });
}

function intersects(a: Shape, b: Shape): boolean {
  if (a.points.some((p) => b.polygons.some((poly) => inPolygon(p, poly)))) return true;
  if (b.points.some((p) => a.polygons.some((poly) => inPolygon(p, poly)))) return true;
  if (a.segments.some((s) => b.segments.some((t) => segmentsCross(s, t)))) return true;
  if (a.points.some((p) => b.segments.some((s) => onSegment(p, s)))) return true;
  if (b.points.some((p) => a.segments.some((s) => onSegment(p, s)))) return true;
  return a.points.some((p) => b.points.some((q) => p[0] === q[0] && p[1] === q[1]));
}

const EARTH = 6_371_008.8;
const rad = (d: number) => (d * Math.PI) / 180;

function haversine(a: Position, b: Position): number {
  const dLat = rad(b[1] - a[1]);
  const dLon = rad(b[0] - a[0]);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a[1])) * Math.cos(rad(b[1])) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Metres from a point to a geometry (0 inside a polygon). */
export function distanceTo(p: Position, g: Geometry): number {
  const s = shapeOf(g);
  if (s.polygons.some((poly) => inPolygon(p, poly))) return 0;
  let best = Math.min(...s.points.map((q) => haversine(p, q)));
  // Along segments, in a local equirectangular projection around p.
  const k = Math.cos(rad(p[1]));
  for (const [a, b] of s.segments) {
    const ax = (a[0] - p[0]) * k;
    const ay = a[1] - p[1];
    const bx = (b[0] - p[0]) * k;
    const by = b[1] - p[1];
    const len = (bx - ax) ** 2 + (by - ay) ** 2;
    if (len === 0) continue;
    const t = Math.max(0, Math.min(1, -(ax * (bx - ax) + ay * (by - ay)) / len));
    const x = ax + t * (bx - ax);
    const y = ay + t * (by - ay);
    best = Math.min(best, rad(Math.sqrt(x * x + y * y)) * EARTH);
  }
  return best;
}

export interface GeoQuery {
  rel: 'near' | 'coveredBy' | 'intersects' | 'disjoint' | 'equals';
  minDistance: number | undefined;
  maxDistance: number | undefined;
  geometry: Geometry;
  /** [minLon, minLat, maxLon, maxLat] a matching entity's bounding box must overlap (undefined = any). */
  prefilter: [number, number, number, number] | undefined;
}

/** Parses `georel`, `geometry` and `coords` (all three present, or none → undefined). */
export function parseGeoQuery(
  georel: string | null | undefined,
  geometry: string | null | undefined,
  coords: string | null | undefined,
): GeoQuery | undefined {
  const given = [georel, geometry, coords].filter((x) => x !== null && x !== undefined).length;
  if (given === 0) return undefined;
  if (given < 3)
    throw badRequest('partial geo expression: geometry, georel and coords have to be provided together');
  const [rel, ...modifiers] = georel!.split(';');
  if (!['near', 'coveredBy', 'intersects', 'disjoint', 'equals'].includes(rel!))
    throw badRequest('Invalid georel');
  let minDistance: number | undefined;
  let maxDistance: number | undefined;
  for (const m of modifiers) {
    const [name, value] = m.split(':');
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw badRequest('Invalid georel modifier');
    if (name === 'maxDistance') maxDistance = n;
    else if (name === 'minDistance') minDistance = n;
    else throw badRequest('Invalid georel modifier');
  }
  const points = coords!.split(';').map(parseLatLon);
  let g: Geometry;
  switch (geometry) {
    case 'point':
      if (points.length !== 1) throw badRequest('Invalid query: point geometry needs exactly one coordinate');
      g = { type: 'Point', coordinates: points[0]! };
      break;
    case 'line':
      if (points.length < 2) throw badRequest('Invalid query: line geometry needs at least two coordinates');
      g = { type: 'LineString', coordinates: points };
      break;
    case 'box':
      if (points.length !== 2) throw badRequest('Invalid query: box geometry needs exactly two coordinates');
      g = box(points[0]!, points[1]!);
      break;
    case 'polygon': {
      const first = points[0]!;
      const last = points[points.length - 1]!;
      if (points.length < 4 || first[0] !== last[0] || first[1] !== last[1]) {
        throw badRequest(
          'Invalid query: polygon geometry needs at least four coordinates, the last equal to the first',
        );
      }
      g = { type: 'Polygon', coordinates: [points] };
      break;
    }
    default:
      throw badRequest('Invalid query: geometry must be point, line, box or polygon');
  }
  if (rel === 'near' && geometry !== 'point')
    throw badRequest('Invalid query: georel near needs geometry point');
  if (rel === 'near' && minDistance === undefined && maxDistance === undefined) {
    throw badRequest('Invalid query: georel near needs maxDistance or minDistance');
  }
  if (rel === 'coveredBy' && (geometry === 'point' || geometry === 'line')) {
    throw badRequest('Invalid query: georel coveredBy needs geometry polygon or box');
  }
  let prefilter: GeoQuery['prefilter'];
  const qb = bboxOf(positionsOf(g));
  if (rel === 'near' && maxDistance !== undefined) {
    const [lon, lat] = points[0]!;
    const dLat = (maxDistance / EARTH) * (180 / Math.PI);
    const dLon = dLat / Math.max(0.01, Math.cos(rad(lat)));
    prefilter = [lon - dLon, lat - dLat, lon + dLon, lat + dLat];
  } else if (rel !== 'near' && rel !== 'disjoint') {
    prefilter = qb;
  }
  return { rel: rel as GeoQuery['rel'], minDistance, maxDistance, geometry: g, prefilter };
}

export function geoMatches(q: GeoQuery, g: Geometry): boolean {
  switch (q.rel) {
    case 'near': {
      const d = distanceTo(q.geometry.coordinates as Position, g);
      return (
        (q.maxDistance === undefined || d <= q.maxDistance) &&
        (q.minDistance === undefined || d >= q.minDistance)
      );
    }
    case 'coveredBy':
      return covered(shapeOf(g), shapeOf(q.geometry));
    case 'intersects':
      return intersects(shapeOf(g), shapeOf(q.geometry));
    case 'disjoint':
      return !intersects(shapeOf(g), shapeOf(q.geometry));
    case 'equals':
      return (
        g.type === q.geometry.type && JSON.stringify(g.coordinates) === JSON.stringify(q.geometry.coordinates)
      );
  }
}

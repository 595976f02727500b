/**
 * Geometry for maps and area breakdowns: GeoJSON boundary layers (checked and normalised so every
 * feature carries `properties.area`), the point of an NGSIv2 entity's location (`geo:json` Point or
 * `geo:point` "lat, lon"), and which boundary area holds a point (ray casting over polygons with
 * holes; a point on an edge may fall either side, as with any such test).
 */
import { defineProblem, ProblemError } from '../core/index.ts';

defineProblem('invalid-boundaries', { status: 422, title: 'Not a usable GeoJSON boundary layer' });

export type Position = [number, number];
type Ring = Position[];
export type AreaGeometry =
  { type: 'Polygon'; coordinates: Ring[] } | { type: 'MultiPolygon'; coordinates: Ring[][] };

export interface AreaFeature {
  type: 'Feature';
  properties: { area: string; name: string };
  geometry: AreaGeometry;
}

export interface BoundaryCollection {
  type: 'FeatureCollection';
  features: AreaFeature[];
}

const MAX_FEATURES = 5000;
const MAX_POSITIONS = 2_000_000;

function invalid(detail: string): never {
  throw new ProblemError('invalid-boundaries', { detail });
}

function isPosition(p: unknown): p is Position {
  return (
    Array.isArray(p) &&
    p.length >= 2 &&
    typeof p[0] === 'number' &&
    typeof p[1] === 'number' &&
    Math.abs(p[0]) <= 180 &&
    Math.abs(p[1]) <= 90
  );
}

function checkRings(rings: unknown, where: string): Ring[] {
  if (!Array.isArray(rings) || rings.length === 0) invalid(`${where}: a polygon has at least one ring.`);
  return rings.map((ring, i) => {
    if (!Array.isArray(ring) || ring.length < 4 || !ring.every(isPosition))
      invalid(`${where}, ring ${i}: a ring has at least four [longitude, latitude] positions.`);
    return (ring as Position[]).map((p) => [p[0], p[1]] as Position);
  });
}

/**
 * Checks a FeatureCollection of Polygon / MultiPolygon features, each naming its area in
 * `properties[areaProperty]` (and optionally its display name in `properties[nameProperty]`), and
 * returns it with only `area` and `name` kept in each feature's properties.
 */
export function normaliseBoundaries(
  input: unknown,
  areaProperty: string,
  nameProperty?: string,
): BoundaryCollection {
  const fc = input as { type?: unknown; features?: unknown };
  if (fc?.type !== 'FeatureCollection' || !Array.isArray(fc.features))
    invalid('A boundary layer is a GeoJSON FeatureCollection.');
  if (fc.features.length === 0 || fc.features.length > MAX_FEATURES)
    invalid(`A boundary layer has 1 to ${MAX_FEATURES} features.`);
  const seen = new Set<string>();
  let positions = 0;
  const features = fc.features.map((raw: unknown, i: number): AreaFeature => {
    const f = raw as {
      type?: unknown;
      properties?: Record<string, unknown>;
      geometry?: { type?: unknown; coordinates?: unknown };
    };
    const where = `feature ${i}`;
    if (f?.type !== 'Feature' || !f.geometry) invalid(`${where} is not a Feature with a geometry.`);
    const area = f.properties?.[areaProperty];
    if ((typeof area !== 'string' && typeof area !== 'number') || String(area) === '')
      invalid(`${where} has no ${areaProperty} property.`);
    const code = String(area);
    if (seen.has(code)) invalid(`Area ${code} appears twice.`);
    seen.add(code);
    let geometry: AreaGeometry;
    if (f.geometry.type === 'Polygon')
      geometry = { type: 'Polygon', coordinates: checkRings(f.geometry.coordinates, where) };
    else if (
      f.geometry.type === 'MultiPolygon' &&
      Array.isArray(f.geometry.coordinates) &&
      f.geometry.coordinates.length > 0
    )
      geometry = {
        type: 'MultiPolygon',
        coordinates: f.geometry.coordinates.map((poly, j) => checkRings(poly, `${where}, polygon ${j}`)),
      };
    else invalid(`${where}: boundaries are Polygon or MultiPolygon geometries.`);
    const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
    for (const poly of polygons) for (const ring of poly) positions += ring.length;
    if (positions > MAX_POSITIONS) invalid('The boundary layer is too large; simplify its geometry first.');
    const name = nameProperty ? f.properties?.[nameProperty] : undefined;
    return {
      type: 'Feature',
      properties: { area: code, name: name === undefined ? code : String(name) },
      geometry,
    };
  });
  return { type: 'FeatureCollection', features };
}

function inRing([x, y]: Position, ring: Ring): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i]!;
    const [xj, yj] = ring[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function inPolygon(p: Position, rings: Ring[]): boolean {
  return inRing(p, rings[0]!) && !rings.slice(1).some((hole) => inRing(p, hole));
}

export function inGeometry(p: Position, g: AreaGeometry): boolean {
  return g.type === 'Polygon'
    ? inPolygon(p, g.coordinates)
    : g.coordinates.some((poly) => inPolygon(p, poly));
}

/** The area code of the first feature holding the point, or undefined. */
export function areaOf(p: Position, layer: BoundaryCollection): string | undefined {
  return layer.features.find((f) => inGeometry(p, f.geometry))?.properties.area;
}

/** [longitude, latitude] of an entity's `location` (normalized or keyValues form), or null. */
export function entityPoint(entity: Record<string, unknown>): Position | null {
  const raw = entity['location'] as { type?: string; value?: unknown } | undefined;
  if (!raw) return null;
  const value = typeof raw === 'object' && 'value' in raw ? raw.value : raw;
  if (typeof value === 'string') {
    const m = /^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$/.exec(value);
    if (!m) return null;
    const p: Position = [Number(m[2]), Number(m[1])];
    return isPosition(p) ? p : null;
  }
  const g = value as { type?: string; coordinates?: unknown } | null;
  if (g?.type === 'Point' && isPosition(g.coordinates)) return [g.coordinates[0], g.coordinates[1]];
  return null;
}

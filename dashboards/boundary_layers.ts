/**
 * GeoJSON boundary layers (e.g. 町丁目 or school districts, from e-Stat or the city's GIS): stored
 * normalised, drawn by maps with or without a tile server, and used to count NGSIv2 entities per
 * area (`analytics.broker_entities_area`). Every change is audited in the same transaction.
 */
import type { AuditLog, Database } from '../core/index.ts';
import { defineProblem, ProblemError } from '../core/index.ts';
import { type BoundaryCollection, normaliseBoundaries } from './geo.ts';

defineProblem('layer-not-found', { status: 404, title: 'No such boundary layer' });

interface Deps {
  db: Database;
  audit: AuditLog;
  now: () => Date;
}

export interface LayerSummary {
  name: string;
  title: string;
  areaProperty: string;
  areas: number;
  updatedAt: string;
}

export function createBoundaryLayers({ db, audit, now }: Deps) {
  return {
    /** Creates or replaces a layer. */
    async put(
      name: string,
      input: { title: string; areaProperty: string; nameProperty?: string; geojson: unknown },
      actor: string,
    ): Promise<LayerSummary> {
      const layer = normaliseBoundaries(input.geojson, input.areaProperty, input.nameProperty);
      await db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO analytics.boundary_layer (name, title, area_property, geojson, areas, updated_by, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (name) DO UPDATE SET title = EXCLUDED.title, area_property = EXCLUDED.area_property,
             geojson = EXCLUDED.geojson, areas = EXCLUDED.areas, updated_by = EXCLUDED.updated_by,
             updated_at = EXCLUDED.updated_at`,
          [name, input.title, input.areaProperty, JSON.stringify(layer), layer.features.length, actor, now()],
        );
        await audit.recordInTransaction(tx, {
          actor,
          action: 'dashboards.boundaries.put',
          target: `layer:${name}`,
          details: { areas: layer.features.length },
        });
      });
      return (await this.list()).find((l) => l.name === name)!;
    },

    async list(): Promise<LayerSummary[]> {
      const { rows } = await db.query<LayerSummary>(
        `SELECT name, title, area_property AS "areaProperty", areas,
                to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "updatedAt"
           FROM analytics.boundary_layer ORDER BY name`,
      );
      return rows;
    },

    async get(name: string): Promise<BoundaryCollection & { title: string }> {
      const { rows } = await db.query<{ title: string; geojson: BoundaryCollection }>(
        'SELECT title, geojson FROM analytics.boundary_layer WHERE name = $1',
        [name],
      );
      if (!rows[0]) throw new ProblemError('layer-not-found', { detail: `No boundary layer ${name}.` });
      return { ...rows[0].geojson, title: rows[0].title };
    },

    async exists(name: string): Promise<boolean> {
      const { rows } = await db.query('SELECT 1 FROM analytics.boundary_layer WHERE name = $1', [name]);
      return rows.length > 0;
    },
  };
}

export type BoundaryLayers = ReturnType<typeof createBoundaryLayers>;

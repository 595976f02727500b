/**
 * SDGs site adapter: activity events (resident, activity, SDGs goals, amount) arrive by API from the
 * site's partner client, become points by per-activity rules and move the SDGs meter per resident
 * and per city per goal. See README.md.
 *
 * @example
 *   const sdgs = (ctx.services['adapters'] as AdaptersServices).adapters['sdgs'] as SdgsServices;
 *   await sdgs.meter(commonId, `resident:${commonId}`);
 */
import type { IdpServices } from '../../idp/index.ts';
import type { PointsService } from '../../points/index.ts';
import type { AdapterFactory } from '../kit/index.ts';
import { sdgsMigrations } from './migrations.ts';
import { sdgsRouters } from './routes.ts';
import { createSdgsService, type SdgsServices, type SubjectResolver } from './sdgs_service.ts';

export type { Meter, MeterGoal, SdgsRule, SdgsServices, SubjectResolver } from './sdgs_service.ts';
export { SDGS_GOALS } from './sdgs_goals.ts';

/** The adapter; `residents` replaces the idp lookup of partner subjects (tests, other directories). */
export function sdgsAdapterWith(options: { residents?: SubjectResolver } = {}): AdapterFactory {
  return ({ ctx, kit }) => {
    const service = createSdgsService({
      db: ctx.db,
      audit: ctx.audit,
      inbox: kit.inbox,
      now: ctx.now,
      points: () => {
        const points = ctx.services['points'] as PointsService | undefined;
        if (!points) throw new Error('the SDGs adapter needs the points module');
        return points;
      },
      residents: () => {
        if (options.residents) return options.residents;
        const idp = ctx.services['idp'] as IdpServices | undefined;
        if (!idp) throw new Error('the SDGs adapter needs the idp module (or a resident resolver)');
        return idp.accounts;
      },
    });
    const { receive: _receive, ...services } = service;
    return {
      name: 'sdgs',
      migrations: sdgsMigrations,
      routers: sdgsRouters(ctx, service),
      services: services satisfies SdgsServices,
      async status() {
        const rules = await service.rules();
        return { rules: rules.length, activeRules: rules.filter((r) => r.active).length };
      },
    };
  };
}

export const sdgsAdapter: AdapterFactory = sdgsAdapterWith();

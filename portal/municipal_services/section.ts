/**
 * Municipal services (自治体サービス) as portal sections: the staff pages at `/admin/services`
 * (role `services`), the resident's page at `/portal/services`, and, for the notices and surveys sections, the shared registry and resident
 * directory (`municipalServicesFor(ctx)`).
 */
import type { ModuleContext } from '../../core/index.ts';
import type { IdpServices } from '../../idp/index.ts';
import type { PortalSection } from '../shared/section.ts';
import {
  createResidentDirectory,
  DIRECTORY_MIGRATIONS,
  type ResidentDirectory,
} from './resident_directory.ts';
import { createServiceRegistry, SERVICE_MIGRATIONS, type ServiceRegistry } from './service_registry.ts';
import { SERVICES_BASE, servicesResidentPages } from './resident_pages.ts';
import { SERVICES_ADMIN_BASE, servicesStaffPages } from './staff_pages.ts';

const built = new WeakMap<ModuleContext, { registry: ServiceRegistry; directory: ResidentDirectory }>();

/** The registry and directory of this portal (one per module context). */
export function municipalServicesFor(ctx: ModuleContext): {
  registry: ServiceRegistry;
  directory: ResidentDirectory;
} {
  let b = built.get(ctx);
  if (!b) {
    b = {
      registry: createServiceRegistry(ctx.db, ctx.audit, ctx.now),
      directory: createResidentDirectory(ctx, () => ctx.services['idp'] as IdpServices | undefined),
    };
    built.set(ctx, b);
  }
  return b;
}

export const servicesAdminSection: PortalSection = {
  name: 'municipal-services',
  prefix: SERVICES_ADMIN_BASE,
  migrations: [...DIRECTORY_MIGRATIONS, ...SERVICE_MIGRATIONS],
  parseBody: false,
  adminNav: [{ href: SERVICES_ADMIN_BASE, ja: '自治体サービス', en: 'Municipal services', role: 'services' }],
  create(p) {
    const { registry, directory } = municipalServicesFor(p.ctx);
    directory.follow(p.idp);
    return servicesStaffPages(p, registry, directory);
  },
};

export const servicesSection: PortalSection = {
  name: 'municipal-services-resident',
  prefix: SERVICES_BASE,
  nav: [{ href: SERVICES_BASE, ja: '自治体サービス', en: 'Municipal services', order: 40 }],
  create(p) {
    const { registry, directory } = municipalServicesFor(p.ctx);
    return servicesResidentPages(p, registry, directory);
  },
};

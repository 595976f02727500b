/**
 * The modules the platform assembles, in dependency order: a module's factory sees the services of
 * every module listed before it. Add a module by appending its entry file's factory.
 */
import { createBrokerModule } from './broker/index.ts';
import { createConsentModule } from './consent/index.ts';
import { createCoreModule, type ModuleFactory } from './core/index.ts';
import { createDashboardsModule } from './dashboards/index.ts';
import { createIdpModule } from './idp/index.ts';
import { createOpendataModule } from './opendata/index.ts';
import { createPointsModule } from './points/index.ts';
import { createPortalModule } from './portal/index.ts';

export const MODULES: readonly ModuleFactory[] = [
  createCoreModule,
  createIdpModule,
  createConsentModule,
  createPointsModule,
  createBrokerModule,
  createOpendataModule,
  createDashboardsModule,
  createPortalModule,
];

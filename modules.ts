/**
 * The modules the platform assembles, in dependency order: a module's factory sees the services of
 * every module listed before it. Add a module by appending its entry file's factory.
 */
import { createAdapterPortsModule, createAdaptersModule } from './adapters/index.ts';
import { createBrokerModule } from './broker/index.ts';
import { createConsentModule } from './consent/index.ts';
import { createCoreModule, type ModuleCommand, type ModuleFactory } from './core/index.ts';
import { createDashboardsModule, dashboardsCommands } from './dashboards/index.ts';
import { IDP_COMMANDS } from './idp/cli.ts';
import { createIdpModule, type IdpServices } from './idp/index.ts';
import { createMediationModule, MEDIATION_COMMANDS } from './mediation/index.ts';
import { createOpendataModule, opendataCommands } from './opendata/index.ts';
import { createPointsModule, importCommands } from './points/index.ts';
import { createPortalModule } from './portal/index.ts';

export const MODULES: readonly ModuleFactory[] = [
  createCoreModule,
  createIdpModule,
  createConsentModule,
  createMediationModule,
  createPointsModule,
  createAdaptersModule,
  createAdapterPortsModule,
  createBrokerModule,
  createOpendataModule,
  createDashboardsModule,
  createPortalModule,
];

/** Admin commands modules offer, as `npm run tsunagu -- <module> <command> [args]`. */
export const MODULE_COMMANDS: Readonly<Record<string, Readonly<Record<string, ModuleCommand>>>> = {
  idp: Object.fromEntries(
    Object.entries(IDP_COMMANDS).map(([name, command]): [string, ModuleCommand] => [
      name,
      {
        summary: command.summary,
        run: async (args, io) =>
          command.run((await io.platform()).services['idp'] as IdpServices, args, (line) =>
            io.out(`${line}\n`),
          ),
      },
    ]),
  ),
  opendata: opendataCommands,
  dashboards: dashboardsCommands,
  import: importCommands,
  mediation: MEDIATION_COMMANDS,
};

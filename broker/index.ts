/**
 * broker — the NGSIv2 context broker (FIWARE Orion compatible) and the NGSIv2 client the platform
 * uses. Without BROKER_URL the embedded broker serves `/version` and `/v2/...` at the root like
 * Orion and stores in the `broker` schema; with BROKER_URL it stays off and the client talks to
 * that Orion instead.
 *
 * @example
 *   const { client } = ctx.services['broker'] as BrokerServices;
 *   const ngsi = client({ service: 'kakogawa', servicePath: '/opendata' });
 *   await ngsi.upsertEntity({ id: 'Shelter:001', type: 'EvacuationShelter', name: { type: 'Text', value: '加古川小学校' } });
 */
import type { ModuleFactory } from '../core/index.ts';
import { type Broker, type BrokerSettings, brokerSettings, createBroker } from './broker.ts';
import { inProcessFetch } from './client/in_process.ts';
import { NgsiClient, type NgsiClientOptions } from './client/index.ts';
import { brokerMigrations } from './migrations.ts';

export type { BrokerSettings } from './broker.ts';
export type { EntityQuery, NgsiAttribute, NgsiEntity, SubscriptionInput } from './client/index.ts';
export { NgsiClient, NgsiError } from './client/index.ts';

export interface BrokerServices {
  /** An NGSIv2 client for the configured broker, optionally scoped to a tenant and service path. */
  client(scope?: Omit<NgsiClientOptions, 'baseUrl' | 'fetch'>): NgsiClient;
  /** True when the embedded broker serves; false when BROKER_URL points at an external Orion. */
  embedded: boolean;
  /** The embedded broker itself (undefined with BROKER_URL). */
  broker: Broker | undefined;
}

/** The broker module with settings overriding the BROKER_* environment variables (tests). */
export function brokerModule(overrides: Partial<BrokerSettings> = {}): ModuleFactory<BrokerServices> {
  return (ctx) => {
    if (ctx.config.brokerUrl) {
      const baseUrl = ctx.config.brokerUrl;
      ctx.logger.info({ brokerUrl: baseUrl }, 'broker: using external NGSIv2 broker; embedded broker off');
      return {
        name: 'broker',
        migrations: null,
        routers: [],
        services: {
          client: (scope = {}) => new NgsiClient({ ...scope, baseUrl }),
          embedded: false,
          broker: undefined,
        },
      };
    }
    const broker = createBroker({
      db: ctx.db,
      logger: ctx.logger,
      now: ctx.now,
      settings: { ...brokerSettings(process.env), ...overrides },
      audit: async (entry) => {
        await ctx.audit.record({ actor: 'ngsi-client', ...entry });
      },
    });
    const transport = inProcessFetch(broker);
    return {
      name: 'broker',
      migrations: brokerMigrations,
      routers: [
        { prefix: '/version', router: broker.nodeHandler, parseBody: false },
        { prefix: '/v2', router: broker.nodeHandler, parseBody: false },
      ],
      services: {
        client: (scope = {}) =>
          new NgsiClient({ ...scope, baseUrl: 'http://embedded-broker', fetch: transport }),
        embedded: true,
        broker,
      },
      start: () => broker.start(),
      stop: () => broker.stop(),
    };
  };
}

export const createBrokerModule: ModuleFactory<BrokerServices> = brokerModule();

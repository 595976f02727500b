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
import type { ModuleFactory, ModuleRouter, RouteSpec } from '../core/index.ts';
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

// The broker serves its routes itself (Orion's errors, not the platform's validation); they are
// declared here only so /openapi.json lists them.
// biome-ignore format: one route per line reads best
const OPENAPI_ROUTES: Array<[RouteSpec['method'], string, string]> = [
  ['get', '/version', 'Broker version (Orion layout)'],
  ['get', '/v2', 'NGSIv2 entry points'],
  ['get', '/v2/entities', 'List entities (id, type, patterns, q, mq, geo, attrs, orderBy, pagination)'],
  ['post', '/v2/entities', 'Create an entity (options=upsert, keyValues)'],
  ['get', '/v2/entities/:id', 'Retrieve an entity'],
  ['delete', '/v2/entities/:id', 'Delete an entity'],
  ['get', '/v2/entities/:id/attrs', 'Retrieve the attributes of an entity'],
  ['post', '/v2/entities/:id/attrs', 'Update or append attributes (options=append for strict append)'],
  ['patch', '/v2/entities/:id/attrs', 'Update existing attributes'],
  ['put', '/v2/entities/:id/attrs', 'Replace all attributes'],
  ['get', '/v2/entities/:id/attrs/:attr', 'Retrieve an attribute'],
  ['put', '/v2/entities/:id/attrs/:attr', 'Update an attribute'],
  ['delete', '/v2/entities/:id/attrs/:attr', 'Delete an attribute'],
  ['get', '/v2/entities/:id/attrs/:attr/value', 'Retrieve an attribute value (JSON or text/plain)'],
  ['put', '/v2/entities/:id/attrs/:attr/value', 'Update an attribute value (JSON or text/plain)'],
  ['get', '/v2/types', 'List entity types'],
  ['get', '/v2/types/:type', 'Retrieve an entity type'],
  ['post', '/v2/op/update', 'Batch update (append, appendStrict, update, delete, replace)'],
  ['post', '/v2/op/query', 'Batch query'],
  ['post', '/v2/op/notify', 'Apply a notification payload'],
  ['get', '/v2/subscriptions', 'List subscriptions'],
  ['post', '/v2/subscriptions', 'Create a subscription'],
  ['get', '/v2/subscriptions/:id', 'Retrieve a subscription'],
  ['patch', '/v2/subscriptions/:id', 'Update a subscription'],
  ['delete', '/v2/subscriptions/:id', 'Delete a subscription'],
  ['get', '/v2/registrations', 'List registrations'],
  ['post', '/v2/registrations', 'Create a registration'],
  ['get', '/v2/registrations/:id', 'Retrieve a registration'],
  ['delete', '/v2/registrations/:id', 'Delete a registration'],
];

function listInOpenApi(docs: ModuleRouter): void {
  for (const [method, path, summary] of OPENAPI_ROUTES) {
    // The router is never mounted; the handler only satisfies Express.
    docs.route(
      {
        method,
        path,
        summary,
        tags: ['ngsiv2'],
        responses: { '200': { description: 'Orion-compatible answer' } },
      },
      (_req, _res, next) => next(),
    );
  }
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
    listInOpenApi(ctx.http.createRouter(''));
    return {
      name: 'broker',
      migrations: brokerMigrations,
      routers: [
        // Orion has no rate limit; its clients (IoT agents, batch loaders) must not meet one here either.
        { prefix: '/version', router: broker.nodeHandler, parseBody: false, rateLimit: false },
        { prefix: '/v2', router: broker.nodeHandler, parseBody: false, rateLimit: false },
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

/**
 * Admin API for partner clients, under /api/admin/idp: staff (admin address range, `idp:clients`
 * scope) register services, change their scopes, redirect URIs and IP allow-lists, rotate secrets,
 * and disable them. Secrets appear only in the create and rotate responses.
 */
import type { ModuleContext, ModuleRouter } from '../../core/index.ts';
import type { ClientRegistry } from './client_registry.ts';

const cidrs = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 64 }, maxItems: 64 };
const uris = { type: 'array', items: { type: 'string', format: 'uri', maxLength: 2000 }, maxItems: 20 };
const scopes = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 64 }, maxItems: 64 };

const createBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'grantTypes', 'scopes'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    grantTypes: {
      type: 'array',
      minItems: 1,
      items: { enum: ['client_credentials', 'authorization_code', 'refresh_token'] },
    },
    scopes,
    tokenEndpointAuthMethod: { enum: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] },
    jwks: {
      type: 'object',
      required: ['keys'],
      properties: { keys: { type: 'array', items: { type: 'object' } } },
    },
    redirectUris: uris,
    postLogoutRedirectUris: uris,
    ipAllowList: cidrs,
    verifiedClaims: { type: 'boolean' },
    staffConsole: { type: 'boolean' },
    minimumAcr: {
      enum: ['urn:tsunagu:acr:federated', 'urn:tsunagu:acr:jpki-auth', 'urn:tsunagu:acr:jpki-sign'],
    },
  },
};

const patchBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    scopes,
    redirectUris: uris,
    postLogoutRedirectUris: uris,
    ipAllowList: cidrs,
    verifiedClaims: { type: 'boolean' },
  },
};

const params = {
  type: 'object',
  required: ['clientId'],
  properties: { clientId: { type: 'string', pattern: '^c_[A-Za-z0-9_-]{16}$' } },
};

export const CLIENTS_SCOPE = 'idp:clients';

export const KEYS_SCOPE = 'idp:keys';

export function clientAdminRoutes(
  ctx: ModuleContext,
  clients: ClientRegistry,
  rotateKeys: (actor: string) => Promise<string[]>,
): ModuleRouter {
  const admin = ctx.http.createRouter('/api/admin/idp');
  const guard = [ctx.http.adminOnly, ctx.http.requireToken([CLIENTS_SCOPE])];
  const security = { bearer: [CLIENTS_SCOPE] };
  const tags = ['idp'];
  const actor = (req: { auth?: { subject: string } }) => `client:${req.auth?.subject ?? 'unknown'}`;

  admin.route(
    {
      method: 'post',
      path: '/clients',
      summary: 'Register a partner client',
      tags,
      security,
      body: createBody,
    },
    ...guard,
    async (req, res) => {
      res.status(201).json(await clients.create(req.body, actor(req)));
    },
  );
  admin.route(
    { method: 'get', path: '/clients', summary: 'List partner clients', tags, security },
    ...guard,
    async (_req, res) => {
      res.json({ clients: await clients.list() });
    },
  );
  admin.route(
    { method: 'get', path: '/clients/:clientId', summary: 'A partner client', tags, security, params },
    ...guard,
    async (req, res) => {
      res.json(await clients.get(String(req.params['clientId'])));
    },
  );
  admin.route(
    {
      method: 'patch',
      path: '/clients/:clientId',
      summary: 'Change a partner client',
      tags,
      security,
      params,
      body: patchBody,
    },
    ...guard,
    async (req, res) => {
      res.json(await clients.update(String(req.params['clientId']), req.body, actor(req)));
    },
  );
  admin.route(
    {
      method: 'post',
      path: '/clients/:clientId/secret',
      summary: 'Rotate a client secret',
      tags,
      security,
      params,
    },
    ...guard,
    async (req, res) => {
      res.json(await clients.rotateSecret(String(req.params['clientId']), actor(req)));
    },
  );
  admin.route(
    {
      method: 'delete',
      path: '/clients/:clientId',
      summary: 'Disable a client and revoke its tokens',
      tags,
      security,
      params,
    },
    ...guard,
    async (req, res) => {
      res.json(await clients.disable(String(req.params['clientId']), actor(req)));
    },
  );
  admin.route(
    {
      method: 'post',
      path: '/keys/rotate',
      summary: 'Add fresh OpenID signing keys (the current ones stay published)',
      tags,
      security: { bearer: [KEYS_SCOPE] },
    },
    ctx.http.adminOnly,
    ctx.http.requireToken([KEYS_SCOPE]),
    async (req, res) => {
      res.json({ kids: await rotateKeys(actor(req)) });
    },
  );
  return admin;
}

/**
 * Declared routes: each one registers its Express handler, validates its input with Ajv against its
 * JSON Schemas, and appears in the OpenAPI 3.1 document built from the same schemas.
 *
 * @example
 *   const { router, route } = registry.createRouter('/api/points');
 *   route({ method: 'post', path: '/transfers', summary: 'Post a transfer', body: transferSchema },
 *     async (req, res) => { res.status(201).json(await points.transfer(req.body)); });
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import express, { type RequestHandler, type Router } from 'express';
import { match } from 'path-to-regexp';
import { ProblemError } from './problem.ts';

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export type JsonSchema = Record<string, unknown>;
export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** One operation of the OpenAPI document, as `openApi()` writes it. */
export interface OpenApiOperation {
  summary: string;
  tags?: string[];
  parameters?: Array<{ name: string; in: 'path' | 'query'; required: boolean; schema: JsonSchema }>;
  requestBody?: { required: boolean; content: Record<string, { schema: JsonSchema }> };
  security?: Array<Record<string, string[]>>;
  responses: Record<string, { description: string; content?: Record<string, { schema: JsonSchema }> }>;
}

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string };
  servers: Array<{ url: string }>;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: Record<string, unknown>;
}

export interface RouteSpec {
  method: Method;
  /** Express path relative to the router's prefix, e.g. `/entities/:id`. */
  path: string;
  summary: string;
  tags?: string[];
  body?: JsonSchema;
  query?: JsonSchema;
  params?: JsonSchema;
  /** OpenAPI responses by status; at least the success response. */
  responses?: Record<string, { description: string; schema?: JsonSchema }>;
  /** Names an OpenAPI security scheme with its scopes, e.g. `{ bearer: ['audit:read'] }`. */
  security?: Record<string, string[]>;
}

interface RegisteredRoute {
  method: Method;
  fullPath: string;
  matches: (path: string) => boolean;
  spec: RouteSpec;
}

const ajv = new Ajv({ allErrors: true, coerceTypes: false, useDefaults: true, strict: false });
addFormats(ajv);
const queryAjv = new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true, strict: false });
addFormats(queryAjv);

function publicErrors(errors: ErrorObject[] | null | undefined, where: string) {
  return (errors ?? []).map((e) => ({
    location: where,
    pointer: e.instancePath || '/',
    message: e.message ?? 'invalid',
    ...(e.keyword === 'additionalProperties'
      ? { property: (e.params as { additionalProperty: string }).additionalProperty }
      : {}),
  }));
}

function validator(where: 'body' | 'query' | 'params', validate: ValidateFunction): RequestHandler {
  return (req, _res, next) => {
    if (where === 'body' && req.body === undefined) req.body = {};
    // Express 5's req.query is a getter; validate a copy and expose the coerced result.
    const value = where === 'query' ? { ...req.query } : req[where];
    if (!validate(value)) {
      const errors = publicErrors(validate.errors, where);
      return next(
        new ProblemError('validation-failed', {
          detail: `${where}${errors[0]?.pointer === '/' ? '' : (errors[0]?.pointer ?? '')}: ${errors[0]?.message ?? 'invalid'}`,
          errors,
        }),
      );
    }
    if (where === 'query') Object.defineProperty(req, 'query', { value, writable: true, configurable: true });
    next();
  };
}

export interface ModuleRouter {
  router: Router;
  route(spec: RouteSpec, ...handlers: RequestHandler[]): void;
}

export class RouteRegistry {
  readonly routes: RegisteredRoute[] = [];

  createRouter(prefix: string): ModuleRouter {
    const router = express.Router();
    const route = (spec: RouteSpec, ...handlers: RequestHandler[]) => {
      const steps: RequestHandler[] = [];
      if (spec.params) steps.push(validator('params', ajv.compile(spec.params)));
      if (spec.query) steps.push(validator('query', queryAjv.compile(spec.query)));
      if (spec.body) steps.push(validator('body', ajv.compile(spec.body)));
      router[spec.method](spec.path, ...steps, ...handlers);
      this.register(prefix, spec);
    };
    return { router, route };
  }

  /** Records a route served by other means (health checks, mounted third-party apps). */
  register(prefix: string, spec: RouteSpec): void {
    const fullPath = `${prefix}${spec.path}`.replace(/\/+$/, '') || '/';
    const matcher = match(fullPath, { decode: decodeURIComponent });
    this.routes.push({ method: spec.method, fullPath, matches: (p) => matcher(p) !== false, spec });
  }

  /** Methods registered for a path; used to answer 405 with an `Allow` header. */
  allowedMethods(path: string): string[] {
    const methods = new Set<string>();
    for (const r of this.routes) if (r.matches(path)) methods.add(r.method.toUpperCase());
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods];
  }

  openApi(info: { title: string; version: string; serverUrl: string }): OpenApiDocument {
    const paths: Record<string, Record<string, OpenApiOperation>> = {};
    for (const { method, fullPath, spec } of this.routes) {
      const oaPath = fullPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      const parameters: NonNullable<OpenApiOperation['parameters']> = [];
      for (const name of fullPath.match(/:([A-Za-z0-9_]+)/g) ?? []) {
        const param = name.slice(1);
        const schema = (spec.params?.['properties'] as Record<string, JsonSchema> | undefined)?.[param];
        parameters.push({ name: param, in: 'path', required: true, schema: schema ?? { type: 'string' } });
      }
      const queryProps = (spec.query?.['properties'] ?? {}) as Record<string, JsonSchema>;
      const required = new Set((spec.query?.['required'] as string[] | undefined) ?? []);
      for (const [name, schema] of Object.entries(queryProps)) {
        parameters.push({ name, in: 'query', required: required.has(name), schema });
      }
      const responses: OpenApiOperation['responses'] = {};
      for (const [status, r] of Object.entries(spec.responses ?? { '200': { description: 'OK' } })) {
        responses[status] = {
          description: r.description,
          ...(r.schema ? { content: { 'application/json': { schema: r.schema } } } : {}),
        };
      }
      responses['default'] = {
        description: 'Problem (RFC 9457)',
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
      };
      paths[oaPath] ??= {};
      paths[oaPath][method] = {
        summary: spec.summary,
        ...(spec.tags ? { tags: spec.tags } : {}),
        ...(parameters.length ? { parameters } : {}),
        ...(spec.body
          ? { requestBody: { required: true, content: { 'application/json': { schema: spec.body } } } }
          : {}),
        ...(spec.security ? { security: [spec.security] } : {}),
        responses,
      };
    }
    return {
      openapi: '3.1.0',
      info: { title: info.title, version: info.version },
      servers: [{ url: info.serverUrl }],
      paths,
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
        schemas: {
          Problem: {
            type: 'object',
            required: ['type', 'title', 'status', 'code'],
            properties: {
              type: { type: 'string', format: 'uri' },
              title: { type: 'string' },
              status: { type: 'integer' },
              detail: { type: 'string' },
              instance: { type: 'string' },
              code: { type: 'string' },
            },
          },
        },
      },
    };
  }
}

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCoreModule, type ModuleFactory } from '../../core/index.ts';
import { send } from '../support/http.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';

/** A module with one writing route, to prove that rejected requests write nothing. */
const notesModule: ModuleFactory = (ctx) => {
  const { router, route } = ctx.http.createRouter('/api/notes');
  route(
    {
      method: 'post',
      path: '/',
      summary: 'Create a note',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['text'],
        properties: { text: { type: 'string', minLength: 1, maxLength: 200 } },
      },
      responses: { '201': { description: 'Created' } },
    },
    async (req, res) => {
      const { rows } = await ctx.db.query('INSERT INTO notes.notes (text) VALUES ($1) RETURNING id', [
        req.body.text,
      ]);
      res.status(201).json({ id: rows[0]?.['id'] });
    },
  );
  route(
    {
      method: 'get',
      path: '/:id',
      summary: 'Read a note',
      params: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9]+$' } } },
    },
    async (req, res) => {
      const { rows } = await ctx.db.query('SELECT id, text FROM notes.notes WHERE id = $1', [
        req.params['id'],
      ]);
      res.json(rows[0] ?? null);
    },
  );
  return {
    name: 'notes',
    migrations: {
      module: 'notes',
      schema: 'notes',
      migrations: [
        { id: '001_notes', sql: 'CREATE TABLE notes.notes (id serial PRIMARY KEY, text text NOT NULL)' },
      ],
    },
    routers: [{ prefix: '/api/notes', router }],
    services: {},
  };
};

describe('HTTP stack', () => {
  let t: TestPlatform;
  const count = async () =>
    Number((await t.platform.db.query('SELECT count(*) AS n FROM notes.notes')).rows[0]?.['n']);

  before(async () => {
    t = await startTestPlatform({
      modules: [createCoreModule, notesModule],
      env: { BODY_LIMIT: '1kb', CORS_ORIGINS: 'https://portal.example.jp', RATE_LIMIT_PER_MINUTE: '1000' },
    });
  });
  after(() => t.stop());

  it('accepts a valid request', async () => {
    const res = await send(`${t.url}/api/notes`, { method: 'POST', body: { text: 'こんにちは' } });
    assert.equal(res.status, 201);
    assert.equal(typeof res.body.id, 'number');
    assert.equal(await count(), 1);
  });

  it('answers malformed JSON with problem+json malformed-json and writes nothing', async () => {
    const before = await count();
    const res = await send(`${t.url}/api/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      raw: '{"text": "unterminated',
    });
    assert.equal(res.status, 400);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.deepEqual(res.body, {
      type: 'urn:tsunagu:problem:malformed-json',
      title: 'Request body is not valid JSON',
      status: 400,
      detail: 'The body could not be parsed as JSON.',
      instance: '/api/notes',
      code: 'malformed-json',
    });
    assert.equal(await count(), before);
  });

  it('answers an oversized body with 413 body-too-large and writes nothing', async () => {
    const before = await count();
    const res = await send(`${t.url}/api/notes`, { method: 'POST', body: { text: 'x'.repeat(2000) } });
    assert.equal(res.status, 413);
    assert.equal(res.body.code, 'body-too-large');
    assert.equal(res.body.type, 'urn:tsunagu:problem:body-too-large');
    assert.equal(await count(), before);
  });

  it('answers a schema violation with 400 validation-failed listing each error, and writes nothing', async () => {
    const before = await count();
    const res = await send(`${t.url}/api/notes`, { method: 'POST', body: { text: '', extra: 1 } });
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'validation-failed');
    assert.deepEqual(
      res.body.errors.map((e: { pointer: string; message: string }) => [e.pointer, e.message]).sort(),
      [
        ['/', 'must NOT have additional properties'],
        ['/text', 'must NOT have fewer than 1 characters'],
      ],
    );
    assert.equal(await count(), before);
  });

  it('validates path parameters', async () => {
    const res = await send(`${t.url}/api/notes/abc`);
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'validation-failed');
    assert.equal(res.body.errors[0].location, 'params');
  });

  it('answers an unknown route with 404 not-found', async () => {
    const res = await send(`${t.url}/api/nothing-here`);
    assert.equal(res.status, 404);
    assert.equal(res.body.code, 'not-found');
    assert.equal(res.body.detail, 'No route for GET /api/nothing-here.');
  });

  it('answers a wrong method with 405 method-not-allowed and an Allow header, writing nothing', async () => {
    const before = await count();
    const res = await send(`${t.url}/api/notes/1`, { method: 'DELETE' });
    assert.equal(res.status, 405);
    assert.equal(res.body.code, 'method-not-allowed');
    assert.equal(res.headers.get('allow'), 'GET, HEAD');
    assert.equal(await count(), before);
  });

  it('echoes a well-formed X-Request-Id and generates one otherwise', async () => {
    const echoed = await send(`${t.url}/healthz`, { headers: { 'x-request-id': 'abc-123' } });
    assert.equal(echoed.headers.get('x-request-id'), 'abc-123');
    const generated = await send(`${t.url}/healthz`, { headers: { 'x-request-id': 'bad id with spaces' } });
    assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('sets security headers', async () => {
    const res = await send(`${t.url}/healthz`);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.equal(res.headers.get('x-powered-by'), null);
  });

  it('allows CORS only for configured origins', async () => {
    const ok = await send(`${t.url}/healthz`, { headers: { origin: 'https://portal.example.jp' } });
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://portal.example.jp');
    const other = await send(`${t.url}/healthz`, { headers: { origin: 'https://evil.example' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });

  it('serves an OpenAPI 3.1 document built from the route schemas', async () => {
    const res = await send(`${t.url}/openapi.json`);
    assert.equal(res.status, 200);
    assert.equal(res.body.openapi, '3.1.0');
    const post = res.body.paths['/api/notes'].post;
    assert.equal(post.summary, 'Create a note');
    assert.deepEqual(post.requestBody.content['application/json'].schema.required, ['text']);
    assert.deepEqual(Object.keys(res.body.paths['/api/notes/{id}']), ['get']);
    assert.ok(res.body.paths['/readyz'].get);
  });
});

/** A router mounted with `rateLimit: false`, as the NGSIv2 broker is. */
const unlimitedModule: ModuleFactory = (ctx) => {
  const { router, route } = ctx.http.createRouter('/open');
  route({ method: 'get', path: '/', summary: 'Never rate limited' }, (_req, res) => {
    res.json({ ok: true });
  });
  return {
    name: 'open',
    migrations: null,
    routers: [{ prefix: '/open', router, rateLimit: false }],
    services: {},
  };
};

describe('rate limiting', () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform({
      modules: [createCoreModule, notesModule, unlimitedModule],
      env: { RATE_LIMIT_PER_MINUTE: '3' },
    });
  });
  after(() => t.stop());

  it('answers 429 rate-limited with Retry-After once a client exceeds its limit, and writes nothing', async () => {
    for (let i = 0; i < 3; i++) {
      assert.equal((await send(`${t.url}/api/notes/1`)).status, 200);
    }
    const res = await send(`${t.url}/api/notes`, { method: 'POST', body: { text: 'over the limit' } });
    assert.equal(res.status, 429);
    assert.equal(res.body.code, 'rate-limited');
    assert.equal(res.headers.get('retry-after'), '60');
    const { rows } = await t.platform.db.query('SELECT count(*)::int AS n FROM notes.notes');
    assert.equal(rows[0]?.['n'], 0);
  });

  it('counts each bearer token as its own client', async () => {
    const res = await send(`${t.url}/api/notes/1`, { headers: { authorization: 'Bearer another-client' } });
    assert.equal(res.status, 200);
  });

  it('exempts routers mounted with rateLimit: false', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await send(`${t.url}/open`)).status, 200);
  });

  it('never limits health checks', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await send(`${t.url}/healthz`)).status, 200);
  });
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import * as oidc from 'openid-client';
import { createCoreModule } from '../../core/index.ts';
import { createIdpModuleWith } from '../../idp/index.ts';
import { send } from '../support/http.ts';
import { addClient, freePort, type IdpTestPlatform, relyingParty, startIdpPlatform } from './support.ts';

async function count(t: IdpTestPlatform, model: string): Promise<number> {
  const { rows } = await t.platform.db.query<{ n: string }>(
    'SELECT count(*) AS n FROM idp.oidc_payloads WHERE model = $1',
    [model],
  );
  return Number(rows[0]!.n);
}

async function tokenError(config: oidc.Configuration, params: Record<string, string>): Promise<string> {
  try {
    await oidc.clientCredentialsGrant(config, params);
  } catch (error) {
    const e = error as { error?: string; cause?: Array<{ parameters?: { error?: string } }> };
    return e.error ?? e.cause?.[0]?.parameters?.error ?? String(error);
  }
  throw new Error('expected the token request to fail');
}

describe('partner clients: client credentials, introspection, revocation, token verifier', () => {
  let t: IdpTestPlatform;
  let admin: { clientId: string; clientSecret: string };
  let adminRp: oidc.Configuration;
  before(async () => {
    t = await startIdpPlatform();
    admin = await addClient(t, { grantTypes: ['client_credentials'], scopes: ['idp:clients'] });
    adminRp = await relyingParty(t, admin);
  });
  after(() => t.stop());

  it('publishes discovery metadata for the issuer at PUBLIC_URL/oidc', () => {
    const m = adminRp.serverMetadata();
    assert.equal(m.issuer, t.issuer);
    assert.equal(m.token_endpoint, `${t.issuer}/token`);
    assert.equal(m.introspection_endpoint, `${t.issuer}/token/introspection`);
    assert.equal(m.revocation_endpoint, `${t.issuer}/token/revocation`);
    assert.equal(m.userinfo_endpoint, `${t.issuer}/me`);
    assert.equal(m.end_session_endpoint, `${t.issuer}/session/end`);
    assert.deepEqual(m.response_types_supported, ['code']);
    assert.deepEqual(m.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(m.subject_types_supported, ['public', 'pairwise']);
    assert.ok(m.grant_types_supported?.includes('client_credentials'));
    assert.deepEqual(m.acr_values_supported, [
      'urn:tsunagu:acr:federated',
      'urn:tsunagu:acr:jpki-auth',
      'urn:tsunagu:acr:jpki-sign',
      'urn:tsunagu:acr:staff-mfa',
    ]);
  });

  it('issues an opaque, audience-bound token that introspects and passes requireToken', async () => {
    const tokens = await oidc.clientCredentialsGrant(adminRp, { scope: 'idp:clients' });
    assert.equal(tokens.token_type, 'bearer');
    assert.equal(tokens.scope, 'idp:clients');
    assert.equal(tokens.expires_in, 600);
    assert.match(tokens.access_token, /^[A-Za-z0-9_-]{43}$/);

    const info = await oidc.tokenIntrospection(adminRp, tokens.access_token);
    assert.equal(info.active, true);
    assert.equal(info.client_id, admin.clientId);
    assert.equal(info.aud, t.idp.apiResource);
    assert.equal(info.scope, 'idp:clients');
    assert.equal(info.iss, t.issuer);

    const res = await send(`${t.url}/api/admin/idp/clients`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    assert.equal(res.status, 200);
    // Other modules may register their own clients (the resident portal does) — ours is listed.
    const listed = res.body.clients.map((c: { clientId: string }) => c.clientId);
    assert.ok(listed.includes(admin.clientId));
    assert.equal(listed.length, (await t.idp.clients.list()).length);
    assert.equal(JSON.stringify(res.body).includes(admin.clientSecret), false);
  });

  it('lets a resource server with idp:introspect introspect other clients’ tokens, and nobody else', async () => {
    const { access_token } = await oidc.clientCredentialsGrant(adminRp, { scope: 'idp:clients' });
    const rs = await addClient(t, { grantTypes: ['client_credentials'], scopes: ['idp:introspect'] });
    const info = await oidc.tokenIntrospection(await relyingParty(t, rs), access_token);
    assert.equal(info.active, true);
    assert.equal(info.client_id, admin.clientId);
    const stranger = await addClient(t, { grantTypes: ['client_credentials'], scopes: ['points:read'] });
    assert.deepEqual(await oidc.tokenIntrospection(await relyingParty(t, stranger), access_token), {
      active: false,
    });
  });

  it('refuses a token without the route scope (403 insufficient-scope)', async () => {
    const other = await addClient(t, { grantTypes: ['client_credentials'], scopes: ['points:read'] });
    const tokens = await oidc.clientCredentialsGrant(await relyingParty(t, other), { scope: 'points:read' });
    const res = await send(`${t.url}/api/admin/idp/clients`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    assert.equal(res.status, 403);
    assert.equal(res.body.code, 'insufficient-scope');
  });

  it('rejects a wrong secret, an unregistered scope and an unknown resource without issuing anything', async () => {
    const before = await count(t, 'ClientCredentials');
    const wrong = await relyingParty(t, { clientId: admin.clientId, clientSecret: 'not-the-secret' });
    assert.equal(await tokenError(wrong, { scope: 'idp:clients' }), 'invalid_client');
    assert.equal(await tokenError(adminRp, { scope: 'points:write' }), 'invalid_scope');
    assert.equal(
      await tokenError(adminRp, { scope: 'idp:clients', resource: 'https://elsewhere.example/api' }),
      'invalid_target',
    );
    assert.equal(await count(t, 'ClientCredentials'), before);
  });

  it('revocation makes the token inactive and unusable at once', async () => {
    const tokens = await oidc.clientCredentialsGrant(adminRp, { scope: 'idp:clients' });
    await oidc.tokenRevocation(adminRp, tokens.access_token);
    const info = await oidc.tokenIntrospection(adminRp, tokens.access_token);
    assert.deepEqual(info, { active: false });
    const res = await send(`${t.url}/api/admin/idp/clients`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    assert.equal(res.status, 401);
    assert.equal(res.body.code, 'invalid-token');
  });

  it('refuses an expired token (frozen clock moved past its expiry)', async () => {
    const tokens = await oidc.clientCredentialsGrant(adminRp, { scope: 'idp:clients' });
    const verifier = t.platform.modules.find((m) => m.name === 'idp')!.tokenVerifier!;
    assert.equal((await verifier.verify(tokens.access_token))?.clientId, admin.clientId);
    const { rows } = await t.platform.db.query<{ expires_at: Date }>(
      'SELECT expires_at FROM idp.oidc_payloads WHERE id = $1',
      [tokens.access_token],
    );
    assert.equal(rows[0]!.expires_at.getTime() - Date.now() <= 600_000, true);
    await t.platform.db.query(
      `UPDATE idp.oidc_payloads SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [tokens.access_token],
    );
    assert.equal(await verifier.verify(tokens.access_token), null);
  });

  it('admin API registers a client over HTTP, returns its secret once, and audits it', async () => {
    const { access_token } = await oidc.clientCredentialsGrant(adminRp, { scope: 'idp:clients' });
    const auth = { authorization: `Bearer ${access_token}` };
    const bad = await send(`${t.url}/api/admin/idp/clients`, {
      method: 'POST',
      headers: auth,
      body: { name: 'x', grantTypes: ['client_credentials'], scopes: ['ok'], ipAllowList: ['10.0.0.300/8'] },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'invalid-client-metadata');
    const before = (await t.idp.clients.list()).length;

    const res = await send(`${t.url}/api/admin/idp/clients`, {
      method: 'POST',
      headers: auth,
      body: {
        name: 'ポイント連携',
        grantTypes: ['client_credentials'],
        scopes: ['points:write'],
        ipAllowList: ['127.0.0.1/32'],
      },
    });
    assert.equal(res.status, 201);
    assert.match(res.body.client.clientId, /^c_[A-Za-z0-9_-]{16}$/);
    assert.match(res.body.clientSecret, /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(res.body.client.ipAllowList, ['127.0.0.1/32']);
    assert.equal(res.body.client.status, 'active');
    assert.equal((await t.idp.clients.list()).length, before + 1);

    const got = await send(`${t.url}/api/admin/idp/clients/${res.body.client.clientId}`, { headers: auth });
    assert.equal(got.status, 200);
    assert.equal(got.body.clientSecret, undefined);

    const { rows } = await t.platform.db.query<{
      actor: string;
      details: Record<string, unknown>;
      sealed_secret: string;
    }>(
      `SELECT a.actor, a.details, c.sealed_secret FROM core.audit_log a JOIN idp.clients c ON a.target = 'client:' || c.client_id
        WHERE a.action = 'idp.client.create' AND c.client_id = $1`,
      [res.body.client.clientId],
    );
    assert.equal(rows[0]!.actor, `client:${admin.clientId}`);
    assert.equal(JSON.stringify(rows[0]!.details).includes(res.body.clientSecret), false);
    assert.equal(rows[0]!.sealed_secret.includes(res.body.clientSecret), false);

    const missing = await send(`${t.url}/api/admin/idp/clients/c_AAAAAAAAAAAAAAAA`, { headers: auth });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'client-not-found');
  });

  it('enforces the IP allow-list at the token endpoint and on API calls with the client’s tokens', async () => {
    const elsewhere = await addClient(t, {
      grantTypes: ['client_credentials'],
      scopes: ['idp:clients'],
      ipAllowList: ['10.0.0.0/8'],
    });
    const before = await count(t, 'ClientCredentials');
    assert.equal(
      await tokenError(await relyingParty(t, elsewhere), { scope: 'idp:clients' }),
      'unauthorized_client',
    );
    assert.equal(await count(t, 'ClientCredentials'), before);

    const local = await addClient(t, {
      grantTypes: ['client_credentials'],
      scopes: ['idp:clients'],
      ipAllowList: ['127.0.0.1/32', '::1/128'],
    });
    const { access_token } = await oidc.clientCredentialsGrant(await relyingParty(t, local), {
      scope: 'idp:clients',
    });
    const ok = await send(`${t.url}/api/admin/idp/clients`, {
      headers: { authorization: `Bearer ${access_token}` },
    });
    assert.equal(ok.status, 200);
    // Core's own routes, mounted before any module's, see the same address check.
    const me = await send(`${t.url}/api/me`, { headers: { authorization: `Bearer ${access_token}` } });
    assert.equal(me.status, 200);
    assert.equal(me.body.clientId, local.clientId);

    await t.idp.clients.update(local.clientId, { ipAllowList: ['10.0.0.0/8'] }, 'test');
    const denied = await send(`${t.url}/api/admin/idp/clients`, {
      headers: { authorization: `Bearer ${access_token}` },
    });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.code, 'ip-not-allowed');
    const meDenied = await send(`${t.url}/api/me`, { headers: { authorization: `Bearer ${access_token}` } });
    assert.equal(meDenied.status, 403);
    assert.equal(meDenied.body.code, 'ip-not-allowed');
  });

  it('disabling a client revokes its tokens and refuses new ones', async () => {
    const victim = await addClient(t, { grantTypes: ['client_credentials'], scopes: ['idp:clients'] });
    const rp = await relyingParty(t, victim);
    const { access_token } = await oidc.clientCredentialsGrant(rp, { scope: 'idp:clients' });
    await t.idp.clients.disable(victim.clientId, 'test');
    const res = await send(`${t.url}/api/admin/idp/clients`, {
      headers: { authorization: `Bearer ${access_token}` },
    });
    assert.equal(res.status, 401);
    assert.equal(await tokenError(rp, { scope: 'idp:clients' }), 'invalid_client');
    assert.equal((await t.idp.clients.get(victim.clientId)).status, 'disabled');
  });
});

describe('CLI', () => {
  it('clients add registers a client and prints its id and secret as JSON', async () => {
    const t = await startIdpPlatform();
    try {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          'main.ts',
          'idp',
          'clients',
          'add',
          '--name',
          'CLI連携',
          '--grant',
          'client_credentials',
          '--scope',
          'idp:clients',
          '--ip',
          '127.0.0.1/32',
        ],
        { env: { ...process.env, ...t.env, LOG_LEVEL: 'silent' } },
      );
      const printed = JSON.parse(stdout.trim());
      assert.match(printed.clientId, /^c_[A-Za-z0-9_-]{16}$/);
      assert.match(printed.clientSecret, /^[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(printed.ipAllowList, ['127.0.0.1/32']);
      const tokens = await oidc.clientCredentialsGrant(await relyingParty(t, printed), {
        scope: 'idp:clients',
      });
      assert.equal(tokens.scope, 'idp:clients');

      const staff = await promisify(execFile)(
        process.execPath,
        ['main.ts', 'idp', 'staff', 'add', '--username', 'tanaka', '--privileged'],
        { env: { ...process.env, ...t.env, LOG_LEVEL: 'silent' } },
      );
      const member = JSON.parse(staff.stdout.trim());
      assert.equal(member.username, 'tanaka');
      assert.match(member.staffId, /^st_/);
      assert.match(member.password, /^[A-Za-z0-9_-]{24}$/);
      assert.match(member.totpSecret, /^[A-Z2-7]{32}$/);
      assert.equal((await t.idp.staff.find(member.staffId))?.username, 'tanaka');
    } finally {
      await t.stop();
    }
  });
});

describe('provider state and keys live in PostgreSQL', () => {
  it('keeps tokens, clients and sealed signing keys across a restart, and rotates keys', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tsunagu-idp-'));
    const port = await freePort();
    const env = { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` };
    let t = await startIdpPlatform({ dataDir, env });
    try {
      const client = await addClient(t, { grantTypes: ['client_credentials'], scopes: ['idp:clients'] });
      const { access_token } = await oidc.clientCredentialsGrant(await relyingParty(t, client), {
        scope: 'idp:clients',
      });
      const jwks1 = (await send(`${t.issuer}/jwks`)).body.keys.map((k: { kid: string }) => k.kid);
      assert.equal(jwks1.length, 2);

      const { rows } = await t.platform.db.query<{ sealed_jwk: string }>(
        'SELECT sealed_jwk FROM idp.signing_keys',
      );
      for (const r of rows)
        assert.match(r.sealed_jwk, /^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);

      const databaseUrl = t.databaseUrl;
      await t.stop();
      t = await startIdpPlatform({ dataDir, databaseUrl, env });

      const res = await send(`${t.url}/api/admin/idp/clients`, {
        headers: { authorization: `Bearer ${access_token}` },
      });
      assert.equal(res.status, 200);
      const jwks2 = (await send(`${t.issuer}/jwks`)).body.keys.map((k: { kid: string }) => k.kid);
      assert.deepEqual(jwks2, jwks1);

      const keysAdmin = await addClient(t, { grantTypes: ['client_credentials'], scopes: ['idp:keys'] });
      const keysToken = (
        await oidc.clientCredentialsGrant(await relyingParty(t, keysAdmin), { scope: 'idp:keys' })
      ).access_token;
      const rotated = await send(`${t.url}/api/admin/idp/keys/rotate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${keysToken}` },
      });
      assert.equal(rotated.status, 200);
      const fresh = rotated.body.kids as string[];
      assert.equal(fresh.length, 2);
      const jwks3 = (await send(`${t.issuer}/jwks`)).body.keys.map((k: { kid: string }) => k.kid);
      assert.equal(jwks3.length, 4);
      assert.deepEqual(jwks3.slice(0, 2).sort(), [...fresh].sort());
      assert.deepEqual(jwks3.slice(2).sort(), [...jwks1].sort());
    } finally {
      await t.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('several instances on one database', () => {
  it('an instance picks up signing keys another instance rotated', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tsunagu-idp-twin-'));
    const modules = [createCoreModule, createIdpModuleWith({ maintenanceIntervalMs: 200 })];
    const a = await startIdpPlatform({ dataDir, modules });
    const b = await startIdpPlatform({ dataDir, modules, databaseUrl: a.databaseUrl });
    try {
      const kids = async (t: IdpTestPlatform) =>
        (await send(`${t.issuer}/jwks`)).body.keys.map((k: { kid: string }) => k.kid).sort();
      assert.deepEqual(await kids(b), await kids(a));
      const fresh = await a.idp.rotateSigningKeys('test');
      const deadline = Date.now() + 10_000;
      while (!(await kids(b)).includes(fresh[0]!) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(await kids(b), await kids(a));
      assert.equal((await kids(b)).length, 4);
    } finally {
      await b.stop();
      await a.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createAddressMatcher, parseCidr } from '../../core/index.ts';
import { send } from '../support/http.ts';
import { startTestPlatform, staticTokens, type TestPlatform } from '../support/platform.ts';

const tokens = staticTokens({
  'staff-token': { clientId: 'admin-console', scopes: ['audit:read'] },
  'partner-token': { clientId: 'health-app', scopes: ['points:write'] },
});

async function auditCount(t: TestPlatform): Promise<number> {
  const { rows } = await t.platform.db.query('SELECT count(*)::int AS n FROM core.audit_log');
  return rows[0]?.['n'];
}

describe('address matcher', () => {
  it('matches IPv4 and IPv6 CIDRs, and IPv4-mapped IPv6 addresses as IPv4', () => {
    const m = createAddressMatcher(['10.0.0.0/8', '192.168.1.7', '2001:db8::/32']);
    assert.equal(m.allows('10.200.3.4'), true);
    assert.equal(m.allows('11.0.0.1'), false);
    assert.equal(m.allows('192.168.1.7'), true);
    assert.equal(m.allows('192.168.1.8'), false);
    assert.equal(m.allows('2001:db8:1::5'), true);
    assert.equal(m.allows('2001:db9::1'), false);
    assert.equal(m.allows('::ffff:10.1.1.1'), true);
    assert.equal(m.allows('not-an-ip'), false);
  });

  it('rejects malformed CIDRs with a message naming them', () => {
    assert.throws(() => parseCidr('10.0.0.0/33'), /bad prefix length in "10.0.0.0\/33"/);
    assert.throws(() => parseCidr('example.jp/8'), /not an IP address or CIDR: "example.jp\/8"/);
    assert.throws(() => parseCidr('::1/129'), /bad prefix length/);
  });
});

describe('admin IP allow-list', () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform({
      tokenVerifier: tokens,
      env: { ADMIN_IP_ALLOWLIST: '10.0.0.0/8,2001:db8::/32', TRUSTED_PROXIES: '127.0.0.1' },
    });
  });
  after(() => t.stop());

  it('answers 403 ip-not-allowed to an address outside the list, and audits nothing', async () => {
    const before = await auditCount(t);
    const res = await send(`${t.url}/api/admin/audit/head`, {
      headers: { authorization: 'Bearer staff-token' },
    });
    assert.equal(res.status, 403);
    assert.equal(res.body.code, 'ip-not-allowed');
    assert.equal(await auditCount(t), before);
  });

  it('honours X-Forwarded-For from a trusted proxy', async () => {
    const res = await send(`${t.url}/api/admin/audit/head`, {
      headers: { authorization: 'Bearer staff-token', 'x-forwarded-for': '10.1.2.3' },
    });
    assert.equal(res.status, 200);
    const v6 = await send(`${t.url}/api/admin/audit/head`, {
      headers: { authorization: 'Bearer staff-token', 'x-forwarded-for': '2001:db8::42' },
    });
    assert.equal(v6.status, 200);
  });

  it('denies a forwarded address outside the list', async () => {
    const res = await send(`${t.url}/api/admin/audit/head`, {
      headers: { authorization: 'Bearer staff-token', 'x-forwarded-for': '203.0.113.9' },
    });
    assert.equal(res.status, 403);
    assert.equal(res.body.code, 'ip-not-allowed');
  });
});

describe('X-Forwarded-For without a trusted proxy', () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform({ tokenVerifier: tokens, env: { ADMIN_IP_ALLOWLIST: '10.0.0.0/8' } });
  });
  after(() => t.stop());

  it('is ignored: a spoofed header does not get past the allow-list', async () => {
    const res = await send(`${t.url}/api/admin/audit/head`, {
      headers: { authorization: 'Bearer staff-token', 'x-forwarded-for': '10.1.2.3' },
    });
    assert.equal(res.status, 403);
    assert.equal(res.body.code, 'ip-not-allowed');
  });
});

describe('bearer tokens and scopes', () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform({
      tokenVerifier: tokens,
      env: { ADMIN_IP_ALLOWLIST: '127.0.0.0/8,::1/128' },
    });
  });
  after(() => t.stop());

  it('answers 401 unauthorized with a Bearer challenge when no token is sent', async () => {
    const res = await send(`${t.url}/api/admin/audit/head`);
    assert.equal(res.status, 401);
    assert.equal(res.body.code, 'unauthorized');
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="tsunagu"');
  });

  it('answers 401 invalid-token for an unknown token, and audits nothing', async () => {
    const before = await auditCount(t);
    const res = await send(`${t.url}/api/admin/audit/head`, { headers: { authorization: 'Bearer forged' } });
    assert.equal(res.status, 401);
    assert.equal(res.body.code, 'invalid-token');
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="tsunagu", error="invalid_token"');
    assert.equal(await auditCount(t), before);
  });

  it('answers 403 insufficient-scope when a scope is missing', async () => {
    const res = await send(`${t.url}/api/admin/audit/head`, {
      headers: { authorization: 'Bearer partner-token' },
    });
    assert.equal(res.status, 403);
    assert.equal(res.body.code, 'insufficient-scope');
    assert.equal(res.body.detail, 'missing scope: audit:read');
  });

  it('GET /api/me names the token holder and records the authentication in the audit log', async () => {
    const before = await auditCount(t);
    const res = await send(`${t.url}/api/me`, { headers: { authorization: 'Bearer partner-token' } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { subject: 'health-app', clientId: 'health-app', scopes: ['points:write'] });
    const { rows } = await t.platform.db.query(
      'SELECT seq::int, actor, action, target FROM core.audit_log ORDER BY seq DESC LIMIT 1',
    );
    assert.deepEqual(rows[0], {
      seq: before + 1,
      actor: 'client:health-app',
      action: 'auth.token.used',
      target: 'api:me',
    });
  });

  it('serves a holder of the scope and audits the access', async () => {
    const before = await auditCount(t);
    const res = await send(`${t.url}/api/admin/audit/head`, {
      headers: { authorization: 'Bearer staff-token' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.size, before);
    assert.equal(await auditCount(t), before + 1);
    const { rows } = await t.platform.db.query(
      'SELECT actor, action FROM core.audit_log ORDER BY seq DESC LIMIT 1',
    );
    assert.deepEqual(rows[0], { actor: 'client:admin-console', action: 'audit.head.read' });
  });
});

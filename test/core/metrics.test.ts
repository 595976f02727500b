import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { send } from '../support/http.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';

describe('GET /metrics', () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform({ env: { ADMIN_IP_ALLOWLIST: '127.0.0.0/8,::1/128' } });
  });
  after(() => t.stop());

  it('serves Prometheus text with per-route request durations, pool and audit queue gauges', async () => {
    await send(`${t.url}/healthz`);
    await send(`${t.url}/healthz`);
    await send(`${t.url}/no/such/route/123`);
    const res = await send(`${t.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = res.body as string;
    assert.match(
      text,
      /tsunagu_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} 2\n/,
    );
    assert.match(
      text,
      /tsunagu_http_request_duration_seconds_count\{method="GET",route="unmatched",status="404"\} 1\n/,
    );
    assert.doesNotMatch(text, /no\/such\/route/);
    assert.match(text, /tsunagu_db_pool_connections\{state="total"\} \d+/);
    assert.match(text, /tsunagu_audit_queue_depth 0/);
    assert.match(text, /tsunagu_process_resident_memory_bytes \d+/);
  });

  it('is refused outside the admin allow-list', async () => {
    const other = await startTestPlatform({ env: { ADMIN_IP_ALLOWLIST: '10.0.0.0/8' } });
    try {
      const res = await send(`${other.url}/metrics`);
      assert.equal(res.status, 403);
      assert.equal(res.body.code, 'ip-not-allowed');
    } finally {
      await other.stop();
    }
  });
});

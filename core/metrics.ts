/**
 * Prometheus metrics (`GET /metrics`, admin allow-list): request rate and latency per route and status,
 * the database pool, the audit write queue, and Node's process metrics. Modules register their own
 * (ledger transfers, queue depths, notification lag) on the same registry through `ctx.metrics`.
 *
 * @example
 *   const transfers = new Counter({ name: 'tsunagu_points_transfers_total', help: '…', registers: [ctx.metrics] });
 */
import type { OnFinish } from './http/app.ts';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Database } from './database.ts';

export type { Registry } from 'prom-client';

export interface PlatformMetrics {
  registry: Registry;
  /** Records every finished request; the route label is the declared route pattern, never the raw path. */
  onFinish: OnFinish;
}

export function createMetrics(db: Database, auditQueueDepth: () => number): PlatformMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tsunagu_' });
  const duration = new Histogram({
    name: 'tsunagu_http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  new Gauge({
    name: 'tsunagu_db_pool_connections',
    help: 'Database pool connections by state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.set({ state: 'total' }, db.pool.totalCount);
      this.set({ state: 'idle' }, db.pool.idleCount);
      this.set({ state: 'waiting' }, db.pool.waitingCount);
    },
  });
  new Gauge({
    name: 'tsunagu_audit_queue_depth',
    help: 'Audit entries waiting to be committed',
    registers: [registry],
    collect() {
      this.set(auditQueueDepth());
    },
  });
  return {
    registry,
    onFinish(req, res, seconds) {
      // Unmatched requests share one label, so probing random URLs cannot grow the label set.
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      duration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
    },
  };
}

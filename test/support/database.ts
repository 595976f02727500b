/**
 * A fresh database per test file, inside the embedded PostgreSQL that `test/run.ts` started.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export function adminUrl(): string {
  const url = process.env['TSUNAGU_TEST_ADMIN_URL'];
  if (!url)
    throw new Error('run tests through `npm test` or `node test/run.ts` (TSUNAGU_TEST_ADMIN_URL is unset)');
  return url;
}

/** Creates an empty database and returns its URL. */
export async function createTestDatabase(prefix = 't'): Promise<string> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

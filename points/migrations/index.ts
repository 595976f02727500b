import type { ModuleMigrations } from '../../core/index.ts';
import { LEDGER_SQL } from './001_ledger.ts';

export const pointsMigrations: ModuleMigrations = {
  module: 'points',
  schema: 'points',
  migrations: [{ id: '001_ledger', sql: LEDGER_SQL }],
};

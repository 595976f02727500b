import type { ModuleMigrations } from '../../core/index.ts';
import { LEDGER_SQL } from './001_ledger.ts';
import { EXCHANGE_SQL } from './002_exchange.ts';
import { SETTLEMENT_SQL } from './003_settlement.ts';
import { CAMPAIGNS_SQL } from './004_campaigns.ts';
import { EXPIRY_NOTICES_SQL } from './005_expiry_notices.ts';
import { PAY_FAST_PATH_SQL } from './006_pay_fast_path.ts';
import { BULK_GRANT_SQL } from './007_bulk_grant_locking.ts';
import { INVARIANTS_SQL } from './008_set_based_invariants.ts';
import { CHEAPER_BALANCE_CHECK_SQL } from './009_cheaper_balance_check.ts';

export const pointsMigrations: ModuleMigrations = {
  module: 'points',
  schema: 'points',
  migrations: [
    { id: '001_ledger', sql: LEDGER_SQL },
    { id: '002_exchange', sql: EXCHANGE_SQL },
    { id: '003_settlement', sql: SETTLEMENT_SQL },
    { id: '004_campaigns', sql: CAMPAIGNS_SQL },
    { id: '005_expiry_notices', sql: EXPIRY_NOTICES_SQL },
    { id: '006_pay_fast_path', sql: PAY_FAST_PATH_SQL },
    { id: '007_bulk_grant_locking', sql: BULK_GRANT_SQL },
    { id: '008_set_based_invariants', sql: INVARIANTS_SQL },
    { id: '009_cheaper_balance_check', sql: CHEAPER_BALANCE_CHECK_SQL },
  ],
};

/** The points module's failure codes (RFC 9457 `code`); clients branch on these. */
import { defineProblem } from '../core/index.ts';

const PROBLEMS: Record<string, { status: number; title: string }> = {
  'insufficient-points': { status: 409, title: 'Not enough spendable points' },
  'pool-exhausted': { status: 409, title: 'The funding pool balance is too low' },
  'points-already-spent': { status: 409, title: 'The points to take back were already spent or expired' },
  'already-reversed': { status: 409, title: 'The transaction was already reversed or cannot be reversed' },
  'unknown-account': { status: 404, title: 'No such account' },
  'unknown-currency': { status: 404, title: 'No such currency' },
  'unknown-point-type': { status: 404, title: 'No such point type' },
  'unknown-journal': { status: 404, title: 'No such transaction' },
  'unknown-exchange': { status: 404, title: 'No such exchange' },
  'invalid-ledger-request': { status: 400, title: 'The ledger request is invalid' },
  'exchange-not-permitted': {
    status: 403,
    title: 'The resident has not linked both services or not consented',
  },
  'exchange-out-of-range': { status: 422, title: 'The amount is outside the exchange limits' },
  'exchange-state': { status: 409, title: 'The exchange is not pending' },
  'csv-invalid': { status: 400, title: 'The CSV file is invalid' },
  'idempotency-key-missing': { status: 400, title: 'Idempotency-Key header is required' },
  'already-exists': { status: 409, title: 'It already exists' },
  'invalid-qr': { status: 400, title: 'The QR code is not valid' },
};

for (const [code, definition] of Object.entries(PROBLEMS)) defineProblem(code, definition);

/** The merchant console's stable failure codes. */
import { defineProblem } from '../../core/index.ts';

export function defineMerchantProblems(): void {
  defineProblem('merchant-account-not-found', { status: 404, title: 'Merchant account not found' });
  defineProblem('unknown-merchant', { status: 422, title: 'No such merchant in the points ledger' });
}

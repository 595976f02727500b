/** The wallet adapter's failure codes (RFC 9457 `code`). */
import { defineProblem } from '../../core/index.ts';

const PROBLEMS: Record<string, { status: number; title: string }> = {
  'wallet-reconciliation-unknown': { status: 404, title: 'No reconciliation report for that day' },
};

for (const [code, definition] of Object.entries(PROBLEMS)) defineProblem(code, definition);

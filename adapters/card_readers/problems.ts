/** The card-reader adapter's failure codes (RFC 9457 `code`). */
import { defineProblem } from '../../core/index.ts';

const PROBLEMS: Record<string, { status: number; title: string }> = {
  'terminal-unauthorized': { status: 401, title: 'The terminal credential or signature is missing or wrong' },
  'terminal-revoked': { status: 401, title: 'The terminal was revoked' },
  'terminal-facility-mismatch': { status: 403, title: 'The terminal belongs to another facility' },
  'card-unknown': { status: 422, title: 'The card is not registered' },
  'touch-invalid': { status: 422, title: 'The card touch cannot be accepted' },
  'card-facility-unknown': { status: 404, title: 'No such facility' },
  'card-terminal-unknown': { status: 404, title: 'No such terminal' },
};

for (const [code, definition] of Object.entries(PROBLEMS)) defineProblem(code, definition);

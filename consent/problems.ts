/** The consent module's failure codes (RFC 9457 `code`); clients branch on these. */
import { defineProblem } from '../core/index.ts';

const PROBLEMS: Record<string, { status: number; title: string }> = {
  'consent-not-found': { status: 404, title: 'No such consent record' },
  'consent-final': { status: 409, title: 'The consent was withdrawn or has expired; give a new one' },
  'consent-state': { status: 409, title: 'The consent is not in a state that allows this change' },
  'resident-not-found': { status: 404, title: 'No such resident' },
  'service-not-found': { status: 404, title: 'No such partner service' },
  'notice-not-found': { status: 404, title: 'No such notice version' },
  'notice-mismatch': { status: 422, title: 'The notice does not cover this service or purpose' },
  'notice-outdated': { status: 409, title: 'A newer material notice version must be shown first' },
  'unknown-data-item': { status: 422, title: 'Unknown data item' },
  'invalid-validity': { status: 422, title: 'The validity period is invalid' },
  'link-code-invalid': { status: 400, title: 'The link code is wrong, used or expired' },
  'already-linked': { status: 409, title: 'The account or the resident is already linked with this service' },
  'link-not-found': { status: 404, title: 'No such service link' },
  'webhook-not-registered': { status: 404, title: 'No webhook is registered for this service' },
};

for (const [code, definition] of Object.entries(PROBLEMS)) defineProblem(code, definition);

/** The adapters module's failure codes (RFC 9457 `code`). */
import { defineProblem } from '../../core/index.ts';

const PROBLEMS: Record<string, { status: number; title: string }> = {
  'outbox-message-unknown': { status: 404, title: 'No such outbox message' },
  'outbox-not-dead': { status: 409, title: 'Only dead letters can be retried' },
  'adapter-unknown': { status: 404, title: 'No such adapter' },
  'adapter-not-configured': { status: 503, title: 'The adapter is not configured' },
  'signature-invalid': { status: 401, title: 'The request signature is missing or wrong' },
  'payload-malformed': { status: 400, title: 'The payload does not follow the published protocol' },
  'link-invalid': { status: 400, title: 'The account-link request is invalid or expired' },
  'import-invalid': { status: 400, title: 'The file cannot be imported' },
  'import-unknown': { status: 404, title: 'No such import' },
};

for (const [code, definition] of Object.entries(PROBLEMS)) defineProblem(code, definition);

/** The SDGs adapter's failure codes (RFC 9457 `code`). */
import { defineProblem } from '../../core/index.ts';

const PROBLEMS: Record<string, { status: number; title: string }> = {
  'sdgs-unknown-activity': { status: 422, title: 'No point rule for this activity' },
  'sdgs-unknown-resident': { status: 422, title: 'No resident has this subject' },
  'sdgs-activity-invalid': { status: 422, title: 'The activity event cannot be accepted' },
};

for (const [code, definition] of Object.entries(PROBLEMS)) defineProblem(code, definition);

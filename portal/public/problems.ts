/** The directory's stable failure codes (problem+json `type` urn:tsunagu:problem:<code>). */
import { defineProblem } from '../../core/index.ts';

export function defineDirectoryProblems(): void {
  defineProblem('shop-not-found', { status: 404, title: 'Shop not found' });
  defineProblem('change-not-found', { status: 404, title: 'Directory change not found' });
  defineProblem('change-not-pending', { status: 409, title: 'Directory change was already decided' });
  defineProblem('change-stale', { status: 409, title: 'Shop changed after this change was made' });
  defineProblem('activity-not-found', { status: 404, title: 'Activity not found' });
}

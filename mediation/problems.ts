/**
 * The mediation module's failure codes (RFC 9457 `code`). A partner's request about a resident is
 * refused with `not-permitted` whatever the reason (no link, no consent, paused, withdrawn,
 * expired): the answer never tells whether the resident exists. The reason goes to the access log.
 */
import { defineProblem } from '../core/index.ts';

const PROBLEMS: Record<string, { status: number; title: string }> = {
  'not-permitted': { status: 403, title: 'No consented item can be provided for this request' },
  'service-not-registered': { status: 403, title: 'The service is not registered for data mediation' },
  'purpose-not-registered': { status: 403, title: 'The purpose is not registered for this service' },
  'item-not-registered': { status: 403, title: 'An item is outside the service’s registered scope' },
  'flow-not-registered': { status: 403, title: 'This data flow is not registered for the service' },
  'access-log-unavailable': { status: 503, title: 'The access log cannot be written; nothing was provided' },
  'mediation-service-not-found': { status: 404, title: 'No such registered service' },
  'mediation-service-exists': { status: 409, title: 'The service is already registered' },
  'invalid-registration': { status: 422, title: 'The service registration is invalid' },
  'segment-not-due': { status: 409, title: 'The log segment is still within its online retention' },
  'segment-not-archived': { status: 409, title: 'The log segment must be archived before it is purged' },
};

for (const [code, definition] of Object.entries(PROBLEMS)) defineProblem(code, definition);

/**
 * The adapters' shared kit: inbox, outbox (+ worker), sealing, the adapter contract and the staff
 * API. See README.md.
 */
export type { AdapterContext, AdapterDefinition, AdapterFactory } from './adapter.ts';
export { backoffDelay } from './backoff.ts';
export type { Inbox, InboxEntry, InboxEvent, InboxResult, Outcome } from './inbox.ts';
export { inboxKey } from './inbox.ts';
export type { Kit, KitSettings, Outbox, Sealer } from './kit.ts';
export { createKit, kitSettings } from './kit.ts';
export { kitMigrations } from './migrations.ts';
export type { EnqueueInput, OutboxEntry, OutboxHandler, OutboxMessage, OutboxStatus } from './outbox.ts';
export { PermanentFailure } from './outbox.ts';
export type { Env } from './settings.ts';
export { integer, rate, text } from './settings.ts';
export { bilingual, escapeHtml, page } from './html.ts';
export type { ResidentSignIn, SignInFinisher, SignInResult } from './resident_sign_in.ts';
export { SIGN_IN_BASE } from './resident_sign_in.ts';
export { signInRouter } from './signin_routes.ts';
export type { AdapterStatus } from './status.ts';
export { adapterStatus } from './status.ts';
export { STAFF_PREFIX, STAFF_SCOPE, staffRouter } from './staff_api.ts';

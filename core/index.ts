/**
 * core — the platform's foundation: configuration, database, migrations, HTTP app factory, error
 * model, auth middleware, audit log and logging. The only module every other module imports.
 */
export type { AuditEntry, AuditLog, AuditRef, VerifyReport } from './audit/audit_log.ts';
export { createAuditLog, readCheckpointFile } from './audit/audit_log.ts';
export type { Checkpoint, CheckpointSigner } from './audit/checkpoint.ts';
export { createCheckpointSigner, keyIdOf, verifyCheckpoint } from './audit/checkpoint.ts';
export { createAddressMatcher, ipAllowList, parseCidr } from './auth/ip_allow_list.ts';
export type { AuthContext, TokenRequest, TokenVerifier } from './auth/require_token.ts';
export { rejectAllTokens, requireToken } from './auth/require_token.ts';
export type { BackupResult } from './backup/create_backup.ts';
export { backupFileName, createBackup } from './backup/create_backup.ts';
export type { BackupManifest } from './backup/manifest.ts';
export { openBackup, RestoreError, restoreBackup } from './backup/restore_backup.ts';
export type { BackupScheduler } from './backup/schedule.ts';
export { nextRunAt, pruneBackups, scheduleBackups } from './backup/schedule.ts';
export { canonicalJson } from './canonical_json.ts';
export type { Config, Environment } from './config.ts';
export { assertSafeForEnvironment, ConfigError, loadConfig, SETTINGS, unsafeDefaults } from './config.ts';
export type { CoreServices } from './core_module.ts';
export { coreMigrations, createCoreModule } from './core_module.ts';
export type { Database, Queryable } from './database.ts';
export { databaseFromUrl, openDatabase } from './database.ts';
export { loadOrCreateDevSecret } from './dev_secrets.ts';
export type { HttpApp } from './http/app.ts';
export { createHttpApp } from './http/app.ts';
export { defineProblem, listProblems, ProblemError, problemType } from './http/problem.ts';
export type {
  JsonSchema,
  ModuleRouter,
  OpenApiDocument,
  OpenApiOperation,
  RouteSpec,
} from './http/routes.ts';
export { RouteRegistry } from './http/routes.ts';
export { deriveKey, masterKey, openWith, sealWith } from './keys.ts';
export type { Logger } from './logger.ts';
export { createLogger, PERSONAL_FIELDS } from './logger.ts';
export type { PlatformMetrics, Registry } from './metrics.ts';
export { createMetrics } from './metrics.ts';
export type { Migration, ModuleMigrations } from './migrations.ts';
export { checksum, MigrationError, migrate, pendingMigrations } from './migrations.ts';
export type { CommandIo, ModuleCommand, ModuleContext, ModuleFactory, TsunaguModule } from './module.ts';

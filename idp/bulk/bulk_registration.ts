/**
 * Staff bulk registration of residents from a CSV, and the user import of a migration. Two steps
 * that read the same way:
 *
 *   preview(csv)         the validation report (row numbers, fields, codes; how many would be
 *                        created, updated, unchanged) — nothing is written
 *   apply(csv, options)  refuses with the report when any row is invalid; otherwise one
 *                        transaction upserts every row by e-mail, then invitation e-mails go to the
 *                        newly created residents. A re-run of the same file changes nothing and
 *                        mails no one again.
 *
 * Accounts created here are `invited` (no credential yet) at the lowest assurance level.
 *
 * @example
 *   const report = await idp.bulk.preview(bytes);
 *   if (report.issues.length === 0) await idp.bulk.apply(bytes, { actor: 'staff:st_1', invite: true });
 */
import type { AuditLog, Database } from '../../core/index.ts';
import type { EmailAccounts } from '../signup/email_accounts.ts';
import { parseResidentCsv, type RowIssue } from './parse_resident_csv.ts';

export interface BulkReport {
  encoding: 'utf-8' | 'shift_jis';
  fileProblem?: string;
  rows: number;
  issues: RowIssue[];
  create: number;
  update: number;
  unchanged: number;
  applied: boolean;
  invited?: number;
}

export interface BulkOptions {
  actor: string;
  invite: boolean;
  /** A migration: legacy ids are required and recorded under this source name. */
  legacySource?: string;
}

export interface BulkRegistration {
  preview(csv: Uint8Array, options?: { legacySource?: string }): Promise<BulkReport>;
  apply(csv: Uint8Array, options: BulkOptions): Promise<BulkReport>;
}

export function createBulkRegistration(options: {
  db: Database;
  audit: AuditLog;
  emailAccounts: EmailAccounts;
  now: () => Date;
}): BulkRegistration {
  const { db, audit, emailAccounts, now } = options;

  const parse = (csv: Uint8Array, legacySource: string | undefined) =>
    parseResidentCsv(csv, emailAccounts.fields, {
      requireLegacyId: legacySource !== undefined,
      today: now(),
    });

  /** Runs the upserts; `commit` false rolls them back (the preview's counts come from the same code). */
  const run = async (csv: Uint8Array, o: BulkOptions, commit: boolean): Promise<BulkReport> => {
    const parsed = parse(csv, o.legacySource);
    const report: BulkReport = {
      encoding: parsed.encoding,
      ...(parsed.fileProblem ? { fileProblem: parsed.fileProblem } : {}),
      rows: parsed.rows.length + new Set(parsed.issues.map((i) => i.row)).size,
      issues: parsed.issues,
      create: 0,
      update: 0,
      unchanged: 0,
      applied: false,
    };
    if (parsed.fileProblem || parsed.issues.length > 0) return report;
    const created: string[] = [];
    const ROLLBACK = new Error('preview');
    try {
      await db.transaction(async (tx) => {
        for (const row of parsed.rows) {
          const result = await emailAccounts.register(tx, {
            email: row.email,
            profile: row.profile,
            category: row.category,
            registeredBy: o.actor,
            ...(o.legacySource && row.legacyId
              ? { legacy: { source: o.legacySource, id: row.legacyId } }
              : {}),
          });
          report[
            result.outcome === 'created' ? 'create' : result.outcome === 'updated' ? 'update' : 'unchanged'
          ] += 1;
          if (result.outcome === 'created') created.push(result.commonId);
        }
        if (!commit) throw ROLLBACK;
        await audit.recordInTransaction(tx, {
          actor: o.actor,
          action: o.legacySource ? 'idp.migration.users' : 'idp.bulk.register',
          target: o.legacySource ? `migration:${o.legacySource}` : 'idp:residents',
          details: { create: report.create, update: report.update, unchanged: report.unchanged },
        });
      });
    } catch (error) {
      if (error !== ROLLBACK) throw error;
      return report;
    }
    report.applied = true;
    if (o.invite) {
      let invited = 0;
      for (const commonId of created) if (await emailAccounts.invite(commonId)) invited += 1;
      report.invited = invited;
    }
    return report;
  };

  return {
    preview: (csv, p = {}) =>
      run(
        csv,
        { actor: 'preview', invite: false, ...(p.legacySource ? { legacySource: p.legacySource } : {}) },
        false,
      ),
    apply: (csv, o) => run(csv, o, true),
  };
}

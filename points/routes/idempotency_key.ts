/** Reads the Idempotency-Key header (RFC draft "The Idempotency-Key HTTP Header Field"). */
import type { Request, Response } from 'express';
import { ProblemError } from '../../core/index.ts';
import type { JournalAnswer } from '../run_command.ts';

const KEY = /^[\x21-\x7e]{1,200}$/;

export function idempotencyKey(req: Request): string {
  const key = req.get('idempotency-key');
  if (!key) throw new ProblemError('idempotency-key-missing', { detail: 'Send an Idempotency-Key header.' });
  if (!KEY.test(key))
    throw new ProblemError('validation-failed', {
      detail: 'Idempotency-Key must be 1–200 visible ASCII characters.',
    });
  return key;
}

/** 201 with the journal; a replay answers the same body with `Idempotent-Replayed: true`. */
export function sendJournal(res: Response, answer: JournalAnswer): void {
  const { replayed, ...body } = answer;
  if (replayed) res.set('Idempotent-Replayed', 'true');
  res.status(201).json(body);
}

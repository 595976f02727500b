/**
 * Helpers for the console's form handlers: a refused form (a `ProblemError`) is shown as a console
 * page with the problem's status, what went wrong and a way back, instead of problem+json; other
 * errors go on to the platform's error handler. Also reading form fields and a tiny multipart reader
 * for CSV uploads (one file field, small files; the console's uploads are resident lists).
 */
import type { Request, RequestHandler, Response } from 'express';
import { ProblemError } from '../../core/index.ts';
import { bi, escapeHtml } from '../shared/html.ts';
import { sendAdminPage } from './layout.ts';

/** Runs a console POST handler; a `ProblemError` becomes an error page (nothing was changed). */
export function formHandler(
  back: (req: Request) => string,
  fn: (req: Request, res: Response) => Promise<void>,
): RequestHandler {
  return async (req, res, next) => {
    try {
      await fn(req, res);
    } catch (error) {
      if (!(error instanceof ProblemError) || error.status >= 500) return next(error);
      sendAdminPage(req, res, {
        status: error.status,
        title: '受け付けられませんでした',
        titleEn: 'Not accepted',
        body: `<div class="error" role="alert"><p>${bi('入力を確認してください。何も変更していません。', 'Check your input. Nothing was changed.')}</p>
<p lang="en" id="problem" data-code="${escapeHtml(error.code)}">${escapeHtml(error.title)}${error.detail && error.detail !== error.title ? `: ${escapeHtml(error.detail)}` : ''}</p></div>
<p><a class="button secondary" href="${escapeHtml(back(req))}">${bi('戻る', 'Back')}</a></p>`,
      });
    }
  };
}

/** A trimmed string field of a parsed form ('' when absent). */
export function field(req: Request, name: string): string {
  const v = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v.trim() : '';
}

/** All values of a repeated field. */
export function fields(req: Request, name: string): string[] {
  const v = (req.body as Record<string, unknown> | undefined)?.[name];
  return Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : [];
}

/** Reads a multipart/form-data body and answers the named file part's bytes (at most `limit`). */
export async function readUploadedFile(req: Request, name: string, limit = 5 * 1024 * 1024): Promise<Buffer> {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(req.get('content-type') ?? '');
  if (!boundary)
    throw new ProblemError('unsupported-media-type', { detail: 'Expected multipart/form-data.' });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit + 64 * 1024)
      throw new ProblemError('body-too-large', { detail: 'The file is too large.' });
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  let at = body.indexOf(delimiter);
  while (at !== -1) {
    const next = body.indexOf(delimiter, at + delimiter.length);
    if (next === -1) break;
    const part = body.subarray(at + delimiter.length + 2, next - 2); // skip CRLF after delimiter, before next
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd !== -1) {
      const headers = part.subarray(0, headerEnd).toString('utf8');
      if (new RegExp(`name="${name}"`).test(headers)) {
        const content = part.subarray(headerEnd + 4);
        if (content.length > limit)
          throw new ProblemError('body-too-large', { detail: 'The file is too large.' });
        return content;
      }
    }
    at = next;
  }
  throw new ProblemError('validation-failed', { detail: `No file in the field “${name}”.` });
}

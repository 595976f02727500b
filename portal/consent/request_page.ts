/**
 * The opt-in page a partner service sends a resident to (同意のお願い):
 *
 *   GET  {base}/request?service=&purpose=&notice=&items=a,b[&source=]   the notice and one checkbox per item
 *   POST {base}/request                                                  consent to the ticked items
 *
 * Nothing is ticked in advance: the resident opts in item by item, under the notice's latest version.
 */
import type { Request, Response, Router } from 'express';
import type { ConsentServices } from '../../consent/index.ts';
import { ProblemError } from '../../core/index.ts';
import { bi, escapeHtml, type PageOptions } from '../shared/html.ts';
import type { ResidentSession } from '../shared/resident_session.ts';

export interface RequestPageDeps {
  consent: ConsentServices;
  session: ResidentSession;
  serviceName(serviceId: string): Promise<string>;
  base: string;
  signedIn(req: Request, res: Response): string | undefined;
  /** The resident shell for this request. */
  render(req: Request, options: Omit<PageOptions, 'nav' | 'lang' | 'path'>): string;
}

interface ConsentRequest {
  service: string;
  source: string | null;
  purpose: string;
  notice: string;
  items: string[];
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;
const CODE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

function parse(input: Record<string, unknown>, known: string[]): ConsentRequest | undefined {
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const service = str(input['service']);
  const source = str(input['source']) || null;
  const purpose = str(input['purpose']);
  const notice = str(input['notice']);
  const raw = input['items'];
  const items = (Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : []).filter(
    (i): i is string => typeof i === 'string' && i !== '',
  );
  if (!service || !ID.test(service) || (source && !ID.test(source))) return undefined;
  if (!purpose || !CODE.test(purpose) || !notice || !CODE.test(notice)) return undefined;
  if (items.some((i) => !known.includes(i)) || new Set(items).size !== items.length) return undefined;
  return { service, source, purpose, notice, items };
}

export function requestRoutes(router: Router, d: RequestPageDeps): void {
  const { consent, session, base } = d;
  const known = Object.keys(consent.dataItems);
  const labels = consent.dataItems as Record<string, { ja: string; en: string }>;
  const invalid = (req: Request, res: Response) =>
    res
      .status(400)
      .type('html')
      .send(
        d.render(req, {
          title: 'このお願いは無効です',
          titleEn: 'This request is not valid',
          current: null,
          body: `<p class="error" role="alert">${bi('リンク元のサービスにお問い合わせください。', 'Please contact the service that sent you here.')}</p>`,
        }),
      );

  router.get('/request', async (req, res) => {
    const resident = d.signedIn(req, res);
    if (!resident) return;
    const request = parse(req.query as Record<string, unknown>, known);
    const current = request && (await consent.currentNotice(request.notice));
    const notice = current?.latest;
    if (!request || request.items.length === 0 || !notice) return invalid(req, res);
    if (notice.service !== request.service || !notice.purposes.includes(request.purpose))
      return invalid(req, res);
    const to = await d.serviceName(request.service).catch(() => request.service);
    const from = request.source ? await d.serviceName(request.source).catch(() => request.source!) : null;
    const csrf = session.csrfFor(req);
    const boxes = request.items
      .map((item) => {
        const label = labels[item]!;
        return `<li><input type="checkbox" name="items" value="${escapeHtml(item)}" id="item-${escapeHtml(item)}"><label for="item-${escapeHtml(item)}">${bi(label.ja, label.en)}</label></li>`;
      })
      .join('\n');
    res.type('html').send(
      d.render(req, {
        title: '情報提供への同意のお願い',
        titleEn: 'Request to share your data',
        current: null,
        csrf,
        body: `<section class="card" aria-labelledby="who">
<h2 id="who">${from ? `${escapeHtml(from)} → ${escapeHtml(to)}` : escapeHtml(to)}</h2>
<p>${bi(
          from
            ? `${from} があなたの情報を ${to} に渡すことへの同意をお願いしています。`
            : `${to} があなたの情報を受け取ることへの同意をお願いしています。`,
          from ? `${from} asks to pass your data to ${to}.` : `${to} asks to receive your data.`,
        )}</p>
<h3>${bi(notice.titleJa, notice.titleEn)}</h3>
<p>${escapeHtml(notice.bodyJa)}</p>
<p lang="en">${escapeHtml(notice.bodyEn)}</p>
<p class="meta">${bi(`利用目的：${request.purpose}・説明の版：${notice.version}`, `Purpose: ${request.purpose} · notice version ${notice.version}`)}</p>
</section>
<form method="post" action="${base}/request">
<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
<input type="hidden" name="service" value="${escapeHtml(request.service)}">
${request.source ? `<input type="hidden" name="source" value="${escapeHtml(request.source)}">` : ''}
<input type="hidden" name="purpose" value="${escapeHtml(request.purpose)}">
<input type="hidden" name="notice" value="${escapeHtml(request.notice)}">
<input type="hidden" name="version" value="${notice.version}">
<fieldset class="card"><legend>${bi('提供してよい項目を選んでください', 'Choose what may be shared')}</legend>
<ul class="items checks">${boxes}</ul>
</fieldset>
<button type="submit">${bi('選んだ項目に同意する', 'Agree for the chosen items')}</button>
</form>
<p><a href="${base}">${bi('同意せずに戻る', 'Go back without agreeing')}</a></p>`,
      }),
    );
  });

  router.post('/request', async (req, res) => {
    const resident = d.signedIn(req, res);
    if (!resident) return;
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!session.checkCsrf(req, body['csrf']))
      throw new ProblemError('forbidden', { detail: 'The form is out of date. Reload the page.' });
    const request = parse(body, known);
    const version = Number(body['version']);
    if (!request || !Number.isInteger(version) || version < 1) return invalid(req, res);
    if (request.items.length === 0) return res.redirect(303, base);
    try {
      await consent.give(
        {
          resident,
          service: request.service,
          source: request.source,
          items: request.items,
          purpose: request.purpose,
          notice: { id: request.notice, version },
          collectionMethod: 'portal',
        },
        'resident',
      );
    } catch (error) {
      if (error instanceof ProblemError && error.status < 500) return invalid(req, res);
      throw error;
    }
    res.redirect(303, `${base}?done=again`);
  });
}

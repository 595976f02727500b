/**
 * The resident's municipal services (`/portal/services`): the services they are a target of, and
 * their relationships in them (e.g. "someone watches over you" / "you watch over someone"). The
 * other resident is not named: their identity is theirs to share, not the portal's.
 */
import express, { type RequestHandler } from 'express';
import { bi, escapeHtml, residentPage } from '../shared/html.ts';
import type { PortalContext } from '../shared/section.ts';
import type { ResidentDirectory } from './resident_directory.ts';
import { RELATION_KINDS, type ServiceRegistry } from './service_registry.ts';

export const SERVICES_BASE = '/portal/services';

export function servicesResidentPages(
  p: PortalContext,
  registry: ServiceRegistry,
  directory: ResidentDirectory,
): RequestHandler {
  const router = express.Router();
  const shell = { nav: p.residentNav, session: p.resident };
  router.get('/', async (req, res) => {
    const resident = p.resident.residentOf(req);
    if (!resident) return res.redirect(303, p.residentLoginUrl(req.originalUrl));
    await directory
      .touch(resident)
      .catch((error: unknown) => p.ctx.logger.warn({ err: error }, 'directory refresh failed'));
    const mine = await registry.forResident(resident);
    const relationText = (kind: keyof typeof RELATION_KINDS, asFrom: boolean) => {
      const k = RELATION_KINDS[kind];
      return asFrom
        ? bi(
            `あなたは「${k.fromJa}」として登録されています（${k.toJa}：1人）。`,
            `You are registered as ${k.en.split(' → ')[0]!.toLowerCase()} of one person.`,
          )
        : bi(
            `あなたには「${k.fromJa}」が登録されています。`,
            `Someone is registered as your ${k.en.split(' → ')[0]!.toLowerCase()}.`,
          );
    };
    res.type('html').send(
      residentPage(shell, req, {
        title: '自治体サービス',
        titleEn: 'Municipal services',
        current: SERVICES_BASE,
        body: mine.length
          ? `<ul class="items" id="services">${mine
              .map(
                ({ service, relations }) => `<li><h2>${bi(service.nameJa, service.nameEn)}</h2>
${service.descriptionJa ? `<p>${escapeHtml(service.descriptionJa)}</p>` : ''}
${relations.map((r) => `<p class="meta">${relationText(r.kind, r.from === resident)}</p>`).join('')}</li>`,
              )
              .join('')}</ul>`
          : `<p>${bi('対象になっているサービスはありません。', 'You are not a target of any service.')}</p>`,
      }),
    );
  });
  return router;
}

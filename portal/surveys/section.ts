/**
 * Surveys (アンケート) as portal sections: the form builder and exports at `/admin/surveys` (role
 * `surveys`) and the residents' answer pages at `/portal/surveys` (each survey's URL).
 */
import { deriveKey, type ModuleContext } from '../../core/index.ts';
import type { PortalSection } from '../shared/section.ts';
import { surveysResidentPages } from './resident_pages.ts';
import { SURVEYS_ADMIN_BASE, SURVEYS_BASE, surveysStaffPages } from './staff_pages.ts';
import { createSurveyStore, SURVEY_MIGRATIONS, type SurveyStore } from './survey_store.ts';

const built = new WeakMap<ModuleContext, SurveyStore>();

export function surveysFor(ctx: ModuleContext): SurveyStore {
  let s = built.get(ctx);
  if (!s) {
    s = createSurveyStore({
      db: ctx.db,
      audit: ctx.audit,
      now: ctx.now,
      respondentKey: deriveKey(ctx.config, 'tsunagu/portal/survey-respondent'),
      answerKey: deriveKey(ctx.config, 'tsunagu/portal/survey-answers'),
    });
    built.set(ctx, s);
  }
  return s;
}

export const surveysAdminSection: PortalSection = {
  name: 'surveys',
  prefix: SURVEYS_ADMIN_BASE,
  migrations: SURVEY_MIGRATIONS,
  adminNav: [{ href: SURVEYS_ADMIN_BASE, ja: 'アンケート', en: 'Surveys', role: 'surveys' }],
  services: (ctx) => ({ surveys: surveysFor(ctx) }),
  create: (p) => surveysStaffPages(p, surveysFor(p.ctx)),
};

export const surveysSection: PortalSection = {
  name: 'surveys-resident',
  prefix: SURVEYS_BASE,
  nav: [{ href: SURVEYS_BASE, ja: 'アンケート', en: 'Surveys', order: 30 }],
  create: (p) => surveysResidentPages(p, surveysFor(p.ctx)),
};

/** The resident's balances and points history (`/portal/points`). */
import type { PortalSection } from '../shared/section.ts';
import { pointsPages } from './history_page.ts';

const BASE = '/portal/points';

export const pointsSection: PortalSection = {
  name: 'points',
  prefix: BASE,
  nav: [{ href: BASE, ja: 'ポイント', en: 'Points', order: 10 }],
  create: (portal) => pointsPages(portal, BASE),
};

/**
 * The resident portal's home at `/portal` and the language toggle at `/portal/lang`. Mounted at
 * `/portal` itself: it answers only those two paths, everything else falls through to the sections.
 */
import type { PortalSection } from '../shared/section.ts';
import { homePages } from './home_page.ts';

export const homeSection: PortalSection = {
  name: 'home',
  prefix: '/portal',
  nav: [{ href: '/portal', ja: 'ホーム', en: 'Home', order: 0 }],
  create: (portal) => homePages(portal, '/portal'),
};

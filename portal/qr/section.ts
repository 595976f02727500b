/** The resident's QR code (`/portal/qr`) and the service that verifies it (`services.portal.qr`). */
import { deriveKey, type ModuleContext } from '../../core/index.ts';
import type { PortalSection } from '../shared/section.ts';
import { qrPage } from './qr_page.ts';
import { createResidentQr, RESIDENT_QR_MIGRATIONS, type ResidentQrService } from './resident_qr.ts';

const BASE = '/portal/qr';
const built = new WeakMap<ModuleContext, ResidentQrService>();

/** One service per platform: the page issues with it, other modules verify with it. */
export function residentQrFor(ctx: ModuleContext): ResidentQrService {
  let qr = built.get(ctx);
  if (!qr) {
    let key: Buffer | undefined;
    qr = createResidentQr({
      db: ctx.db,
      audit: ctx.audit,
      now: ctx.now,
      key: () => (key ??= deriveKey(ctx.config, 'tsunagu/portal/resident-qr')),
    });
    built.set(ctx, qr);
  }
  return qr;
}

export const qrSection: PortalSection = {
  name: 'qr',
  prefix: BASE,
  migrations: RESIDENT_QR_MIGRATIONS,
  nav: [{ href: BASE, ja: 'マイQRコード', en: 'My QR code', order: 20 }],
  services: (ctx) => ({ qr: residentQrFor(ctx) }),
  create: (portal) => qrPage(portal, residentQrFor(portal.ctx), BASE),
};

/**
 * The resident's QR code page (マイQRコード): a fresh short-lived code per visit, drawn as SVG on the
 * server (the `qrcode` package), no scripts. The code is not the common ID (see resident_qr.ts).
 *
 *   GET {base}   the code, its expiry in JST, a button for a new one
 */
import express, { type Router } from 'express';
import QRCode from 'qrcode';
import { bi, biInline, escapeHtml, residentPage, time } from '../shared/html.ts';
import type { PortalContext } from '../shared/section.ts';
import type { ResidentQrService } from './resident_qr.ts';

/** The code as an accessible inline SVG. */
export async function qrSvg(text: string, label: string): Promise<string> {
  const svg = await QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 4 });
  return svg.replace('<svg ', `<svg class="qr" role="img" aria-label="${escapeHtml(label)}" `);
}

export function qrPage(portal: PortalContext, qr: ResidentQrService, base: string): Router {
  const router = express.Router();
  const shell = { nav: portal.residentNav, session: portal.resident };
  router.get('/', async (req, res) => {
    const resident = portal.resident.residentOf(req);
    if (!resident) return res.redirect(303, portal.residentLoginUrl(req.originalUrl));
    const issued = qr.issue(resident);
    const minutes = Math.round(qr.ttlSeconds / 60);
    const svg = await qrSvg(issued.token, 'あなたの本人確認用QRコード / Your QR code');
    res.set('Cache-Control', 'no-store');
    res.type('html').send(
      residentPage(shell, req, {
        title: 'マイQRコード',
        titleEn: 'My QR code',
        current: base,
        body: `<p>${bi(
          'お店での支払いや、会場での受付のときに、この画面を読み取ってもらってください。',
          'Show this screen to be scanned when you pay at a shop or check in at a venue.',
        )}</p>
<section class="card" aria-labelledby="code">
<h2 id="code" class="visually-hidden">${bi('QRコード', 'QR code')}</h2>
<figure class="qr-figure">${svg}
<figcaption><p id="expiry">${biInline('有効期限', 'Valid until')}: <strong>${time(issued.expiresAt)}</strong></p>
<p class="meta">${bi(`表示から${minutes}分間、1回だけ使えます。`, `Valid for ${minutes} minutes, for one use.`)}</p></figcaption>
</figure>
<form method="get" action="${base}"><button type="submit">${bi('新しいコードを表示', 'Show a new code')}</button></form>
</section>
<p class="meta">${bi(
          'このコードには共通IDやお名前は含まれていません。写真に撮って人に送らないでください。',
          'The code does not contain your common ID or your name. Do not photograph it or send it to anyone.',
        )}</p>`,
      }),
    );
  });
  return router;
}

/**
 * Signed merchant QR codes: a resident's app scans the shop's printed code and pays that merchant.
 * Payload: `TSNG1.<currency>.<merchant>.<signature>`, the signature an HMAC-SHA256 (base64url) over
 * `<currency>.<merchant>`, so a forged or altered code names no merchant. The key is derived (HKDF)
 * from AUDIT_SIGNING_KEY when set; otherwise a development key in the data directory is used and a
 * warning is logged (core has no dedicated setting for this key yet).
 */
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Config, Logger } from '../core/index.ts';
import { loadOrCreateDevSecret, ProblemError } from '../core/index.ts';

const PREFIX = 'TSNG1';

export function createMerchantQr(config: Config, logger: Logger) {
  let key: Buffer | undefined;
  const secret = () => {
    if (key) return key;
    if (config.auditSigningKey) {
      key = Buffer.from(hkdfSync('sha256', config.auditSigningKey, 'tsunagu', 'points merchant QR', 32));
    } else {
      logger.warn('UNSAFE DEFAULT: merchant QR codes are signed with a development key');
      key = Buffer.from(
        loadOrCreateDevSecret(config.dataDir, 'points-qr.key', () => randomBytes(32).toString('hex')),
        'hex',
      );
    }
    return key;
  };
  const sign = (body: string) => createHmac('sha256', secret()).update(body).digest('base64url');

  return {
    payload(currency: string, merchant: string): string {
      const body = `${currency}.${merchant}`;
      return `${PREFIX}.${body}.${sign(body)}`;
    },
    /** The currency and merchant a scanned code names; `invalid-qr` when it was not signed here. */
    verify(payload: string): { currency: string; merchant: string } {
      const parts = payload.split('.');
      if (parts.length !== 4 || parts[0] !== PREFIX)
        throw new ProblemError('invalid-qr', { detail: 'Not a Tsunagu merchant code.' });
      const [, currency, merchant, signature] = parts as [string, string, string, string];
      const expected = Buffer.from(sign(`${currency}.${merchant}`));
      const given = Buffer.from(signature);
      if (expected.length !== given.length || !timingSafeEqual(expected, given))
        throw new ProblemError('invalid-qr', { detail: 'The merchant code signature does not match.' });
      return { currency, merchant };
    },
  };
}

/**
 * Signed merchant QR codes: a resident's app scans the shop's printed code and pays that merchant.
 * Payload: `TSNG1.<currency>.<merchant>.<signature>`, the signature an HMAC-SHA256 (base64url) over
 * `<currency>.<merchant>`, so a forged or altered code names no merchant. The key is derived (HKDF)
 * from MASTER_KEY for this purpose only (a development key when MASTER_KEY is unset, which production
 * refuses), so printed codes stay valid across restarts and instances.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Config, Logger } from '../core/index.ts';
import { deriveKey, ProblemError } from '../core/index.ts';

const PREFIX = 'TSNG1';

export function createMerchantQr(config: Config, _logger?: Logger) {
  let key: Buffer | undefined;
  const secret = () => {
    key ??= deriveKey(config, 'tsunagu/points/merchant-qr');
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

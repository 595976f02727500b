/**
 * Revocation status port. A JPKI verifier asks a `RevocationSource` whether a certificate is revoked;
 * the sources we implement read CRLs (J-LIS publishes daily CRLs to registered verifiers and through
 * platform operators). An OCSP source or a J-LIS platform-operator adapter implements the same port.
 * Unknown status fails closed.
 */
import { verify, type X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificateList } from '@peculiar/asn1-x509';

export type RevocationStatus = 'good' | 'revoked' | 'unknown';

export interface RevocationSource {
  status(cert: X509Certificate, issuer: X509Certificate, at: Date): Promise<RevocationStatus>;
}

const SIGNATURE_HASH: Record<string, string> = {
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
};

const hex = (buffer: ArrayBuffer) =>
  Buffer.from(buffer)
    .toString('hex')
    .replace(/^(00)+(?=.)/, '')
    .toUpperCase();

interface LoadedCrl {
  list: CertificateList;
  tbs: Buffer;
}

/**
 * CRLs held in memory (load them from the files J-LIS or the platform operator delivers, and call
 * `add` again with each new one). A CRL is used only when its signature verifies with the issuer's
 * key and `at` lies between its thisUpdate and nextUpdate.
 */
export class CrlRevocationSource implements RevocationSource {
  readonly #crls: LoadedCrl[] = [];

  add(der: Uint8Array): void {
    const list = AsnConvert.parse(der, CertificateList);
    this.#crls.push({ list, tbs: Buffer.from(AsnConvert.serialize(list.tbsCertList)) });
  }

  async status(cert: X509Certificate, issuer: X509Certificate, at: Date): Promise<RevocationStatus> {
    const serial = cert.serialNumber.replace(/^(00)+(?=.)/, '').toUpperCase();
    for (const { list, tbs } of this.#crls) {
      const t = list.tbsCertList;
      const hash = SIGNATURE_HASH[list.signatureAlgorithm.algorithm];
      if (!hash) continue;
      const signed = verify(hash, tbs, issuer.publicKey, Buffer.from(list.signature));
      if (!signed) continue;
      const thisUpdate = t.thisUpdate.getTime();
      const nextUpdate = t.nextUpdate?.getTime();
      if (thisUpdate.getTime() > at.getTime() || !nextUpdate || nextUpdate.getTime() <= at.getTime())
        continue;
      const revoked = (t.revokedCertificates ?? []).some((r) => hex(r.userCertificate) === serial);
      return revoked ? 'revoked' : 'good';
    }
    return 'unknown';
  }
}

/** Asks each source in turn; the first definite answer wins. */
export function firstDefinite(sources: RevocationSource[]): RevocationSource {
  return {
    async status(cert, issuer, at) {
      for (const source of sources) {
        const status = await source.status(cert, issuer, at);
        if (status !== 'unknown') return status;
      }
      return 'unknown';
    },
  };
}

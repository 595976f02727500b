/**
 * OCSP revocation source (RFC 6960): asks a configured responder — the platform operator's or
 * J-LIS's, reached under contract, so the URL is configuration rather than read from the
 * certificate — about one certificate. The answer counts only when signed by the issuer (or by a
 * responder certificate the issuer delegated with id-kp-OCSPSigning), fresh (thisUpdate within
 * `maxAgeMs`, nextUpdate not passed) and about this very certificate. Anything else is `unknown`.
 *
 * Note: the signature is checked over the DER re-encoding of the parsed responseData, which equals
 * the received bytes for DER-conformant responders.
 */
import { createHash, verify, X509Certificate } from 'node:crypto';
import {
  BasicOCSPResponse,
  CertID,
  id_kp_OCSPSigning,
  id_pkix_ocsp_basic,
  OCSPRequest,
  OCSPResponse,
  OCSPResponseStatus,
  Request,
  TBSRequest,
} from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate as AsnCertificate } from '@peculiar/asn1-x509';
import type { RevocationSource, RevocationStatus } from './revocation.ts';

const SHA1 = '1.3.14.3.2.26';
const SIGNATURE_HASH: Record<string, string> = {
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256',
};

const sha1 = (data: ArrayBuffer | Uint8Array) => createHash('sha1').update(new Uint8Array(data)).digest();
const same = (a: ArrayBuffer, b: ArrayBuffer) => Buffer.from(a).equals(Buffer.from(b));

/** The CertID of `cert` as issued by `issuer` (SHA-1 hashes, as responders expect). */
export function certIdOf(cert: X509Certificate, issuer: X509Certificate): CertID {
  const leaf = AsnConvert.parse(cert.raw, AsnCertificate);
  const ca = AsnConvert.parse(issuer.raw, AsnCertificate);
  return new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: SHA1, parameters: null }),
    issuerNameHash: new OctetString(sha1(AsnConvert.serialize(leaf.tbsCertificate.issuer))),
    issuerKeyHash: new OctetString(sha1(ca.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey)),
    serialNumber: leaf.tbsCertificate.serialNumber,
  });
}

export function ocspRequestFor(cert: X509Certificate, issuer: X509Certificate): Uint8Array {
  const request = new OCSPRequest({
    tbsRequest: new TBSRequest({ requestList: [new Request({ reqCert: certIdOf(cert, issuer) })] }),
  });
  return new Uint8Array(AsnConvert.serialize(request));
}

export class OcspRevocationSource implements RevocationSource {
  readonly #url: string;
  readonly #maxAgeMs: number;
  readonly #timeoutMs: number;

  constructor(options: { url: string; maxAgeMs?: number; timeoutMs?: number }) {
    this.#url = options.url;
    this.#maxAgeMs = options.maxAgeMs ?? 24 * 3_600_000;
    this.#timeoutMs = options.timeoutMs ?? 5000;
  }

  async status(cert: X509Certificate, issuer: X509Certificate, at: Date): Promise<RevocationStatus> {
    let body: ArrayBuffer;
    try {
      const res = await fetch(this.#url, {
        method: 'POST',
        headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' },
        body: ocspRequestFor(cert, issuer),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      if (!res.ok) return 'unknown';
      body = await res.arrayBuffer();
    } catch {
      return 'unknown';
    }
    try {
      return this.#read(body, cert, issuer, at);
    } catch {
      return 'unknown';
    }
  }

  #read(body: ArrayBuffer, cert: X509Certificate, issuer: X509Certificate, at: Date): RevocationStatus {
    const response = AsnConvert.parse(body, OCSPResponse);
    if (response.responseStatus !== OCSPResponseStatus.successful || !response.responseBytes)
      return 'unknown';
    if (response.responseBytes.responseType !== id_pkix_ocsp_basic) return 'unknown';
    const basic = AsnConvert.parse(response.responseBytes.response.buffer, BasicOCSPResponse);
    const hash = SIGNATURE_HASH[basic.signatureAlgorithm.algorithm];
    if (!hash) return 'unknown';
    const signer = this.#signer(basic, issuer);
    if (!signer) return 'unknown';
    const tbs = Buffer.from(AsnConvert.serialize(basic.tbsResponseData));
    if (!verify(hash, tbs, signer.publicKey, Buffer.from(basic.signature))) return 'unknown';

    const wanted = certIdOf(cert, issuer);
    const single = basic.tbsResponseData.responses.find(
      (r) =>
        same(r.certID.serialNumber, wanted.serialNumber) &&
        same(r.certID.issuerKeyHash.buffer, wanted.issuerKeyHash.buffer) &&
        same(r.certID.issuerNameHash.buffer, wanted.issuerNameHash.buffer),
    );
    if (!single) return 'unknown';
    const t = at.getTime();
    if (single.thisUpdate.getTime() > t + 60_000 || t - single.thisUpdate.getTime() > this.#maxAgeMs)
      return 'unknown';
    if (single.nextUpdate && single.nextUpdate.getTime() <= t) return 'unknown';
    if (single.certStatus.revoked) return 'revoked';
    if (single.certStatus.good === null) return 'good';
    return 'unknown';
  }

  /** The issuer itself, or a delegated responder certificate the issuer signed for OCSP signing. */
  #signer(basic: BasicOCSPResponse, issuer: X509Certificate): X509Certificate | undefined {
    const id = basic.tbsResponseData.responderID;
    const issuerKeyHash = sha1(
      AsnConvert.parse(issuer.raw, AsnCertificate).tbsCertificate.subjectPublicKeyInfo.subjectPublicKey,
    );
    if (id.byKey && Buffer.from(id.byKey.buffer).equals(issuerKeyHash)) return issuer;
    for (const c of basic.certs ?? []) {
      const delegated = new X509Certificate(Buffer.from(AsnConvert.serialize(c)));
      if (
        delegated.checkIssued(issuer) &&
        delegated.verify(issuer.publicKey) &&
        (delegated.keyUsage ?? []).includes(id_kp_OCSPSigning)
      ) {
        return delegated;
      }
    }
    return undefined;
  }
}

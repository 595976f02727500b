/**
 * Verifies a My Number card (JPKI) signature over a server-issued nonce:
 *
 *   parse        DER certificate; no unknown critical extension; JPKI policy gives sign or auth
 *   validity     now within the leaf's notBefore..notAfter
 *   chain        leaf (→ supplied intermediates) → a configured trust anchor; every signature,
 *                every validity period, CA flag on issuers
 *   key usage    digitalSignature (+ nonRepudiation for signing certificates); RSA ≥ 2048
 *   signature    RSASSA-PKCS1-v1_5 / SHA-256 over the nonce's UTF-8 bytes
 *   revocation   the configured source must answer `good` (unknown fails closed)
 *   basic 4 info signing certificates only; every item present and well-formed
 *
 * The nonce's single use and expiry are checked by the caller (nonces.ts) before this runs.
 */
import { createHash, verify as verifySignature, X509Certificate } from 'node:crypto';
import { type Basic4, extractBasic4, type JpkiKind, parseProfile } from './jpki_profile.ts';
import type { RevocationSource } from './revocation.ts';

export type JpkiFailure =
  | 'UNSUPPORTED'
  | 'PROFILE'
  | 'EXPIRED'
  | 'CHAIN'
  | 'KEY_USAGE'
  | 'SIGNATURE'
  | 'REVOKED'
  | 'REVOCATION_UNKNOWN';

export interface JpkiVerified {
  ok: true;
  kind: JpkiKind;
  /** Issuer distinguished name as printed by Node (one RDN a line). */
  issuer: string;
  /** Upper-case hex without leading zeros. */
  serial: string;
  notAfter: Date;
  certSha256: string;
  basic4?: Basic4;
}

export type JpkiResult = JpkiVerified | { ok: false; code: JpkiFailure };

export interface TrustAnchors {
  certificates: X509Certificate[];
  /** Anchors generated for tests or development; production refuses them. */
  isTest: boolean;
}

export interface JpkiPresentation {
  certificate: Uint8Array;
  intermediates?: Uint8Array[];
  signature: Uint8Array;
  nonce: string;
  expected: JpkiKind;
}

const within = (cert: X509Certificate, at: Date) =>
  new Date(cert.validFrom).getTime() <= at.getTime() && at.getTime() <= new Date(cert.validTo).getTime();

function buildChain(
  leaf: X509Certificate,
  intermediates: X509Certificate[],
  anchors: TrustAnchors,
  at: Date,
) {
  let current = leaf;
  const pool = [...intermediates];
  for (let depth = 0; depth < 5; depth += 1) {
    const anchor = anchors.certificates.find((a) => current.checkIssued(a) && current.verify(a.publicKey));
    if (anchor) return within(anchor, at) && anchor.ca ? anchor : undefined;
    const index = pool.findIndex((c) => c.ca && current.checkIssued(c) && current.verify(c.publicKey));
    if (index < 0) return undefined;
    const [next] = pool.splice(index, 1);
    if (!next || !within(next, at)) return undefined;
    current = next;
  }
  return undefined;
}

export async function verifyJpki(
  presentation: JpkiPresentation,
  anchors: TrustAnchors,
  revocation: RevocationSource,
  at: Date,
): Promise<JpkiResult> {
  const fail = (code: JpkiFailure): JpkiResult => ({ ok: false, code });
  let leaf: X509Certificate;
  let intermediates: X509Certificate[];
  let profile: ReturnType<typeof parseProfile>;
  try {
    leaf = new X509Certificate(presentation.certificate);
    intermediates = (presentation.intermediates ?? []).map((d) => new X509Certificate(d));
    profile = parseProfile(presentation.certificate);
  } catch {
    return fail('UNSUPPORTED');
  }
  if (profile.unknownCritical.length > 0 || profile.kind !== presentation.expected) return fail('PROFILE');
  if (!within(leaf, at)) return fail('EXPIRED');

  const issuerOfLeaf = buildChain(leaf, intermediates, anchors, at);
  if (!issuerOfLeaf) return fail('CHAIN');
  const directIssuer =
    intermediates.find((c) => leaf.checkIssued(c) && leaf.verify(c.publicKey)) ??
    anchors.certificates.find((a) => leaf.checkIssued(a) && leaf.verify(a.publicKey));
  if (!directIssuer) return fail('CHAIN');

  const usage = profile.keyUsage;
  if (!usage?.digitalSignature || (profile.kind === 'sign' && !usage.nonRepudiation))
    return fail('KEY_USAGE');
  const details = leaf.publicKey.asymmetricKeyDetails;
  if (leaf.publicKey.asymmetricKeyType !== 'rsa' || (details?.modulusLength ?? 0) < 2048)
    return fail('KEY_USAGE');

  const signed = verifySignature(
    'sha256',
    Buffer.from(presentation.nonce, 'utf8'),
    leaf.publicKey,
    Buffer.from(presentation.signature),
  );
  if (!signed) return fail('SIGNATURE');

  const status = await revocation.status(leaf, directIssuer, at);
  if (status === 'revoked') return fail('REVOKED');
  if (status !== 'good') return fail('REVOCATION_UNKNOWN');

  const result: JpkiVerified = {
    ok: true,
    kind: profile.kind,
    issuer: leaf.issuer,
    serial: leaf.serialNumber.replace(/^(00)+(?=.)/, '').toUpperCase(),
    notAfter: new Date(leaf.validTo),
    certSha256: createHash('sha256').update(presentation.certificate).digest('hex'),
  };
  if (profile.kind === 'sign') {
    const basic4 = extractBasic4(profile.otherNames);
    if (!basic4) return fail('PROFILE');
    result.basic4 = basic4;
  }
  return result;
}

/**
 * The JPKI (公的個人認証) certificate profile: which certificate is which, and the basic 4 info
 * (基本4情報) in the signing certificate's subjectAltName otherNames `1.2.392.200149.8.5.5.1`–`.6`,
 * each an `[0] EXPLICIT UTF8String`.
 *
 * Certificate policies: signing certificates (署名用電子証明書) sit under `1.2.392.200149.8.5.1.1`,
 * user-authentication certificates (利用者証明用電子証明書) under `1.2.392.200149.8.5.1.3`.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  Certificate as AsnCertificate,
  CertificatePolicies,
  DirectoryString,
  id_ce_certificatePolicies,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  KeyUsage,
  KeyUsageFlags,
  SubjectAlternativeName,
} from '@peculiar/asn1-x509';

export const JPKI_OID = {
  signPolicy: '1.2.392.200149.8.5.1.1',
  authPolicy: '1.2.392.200149.8.5.1.3',
  name: '1.2.392.200149.8.5.5.1',
  nameMask: '1.2.392.200149.8.5.5.2',
  gender: '1.2.392.200149.8.5.5.3',
  birthDate: '1.2.392.200149.8.5.5.4',
  address: '1.2.392.200149.8.5.5.5',
  addressMask: '1.2.392.200149.8.5.5.6',
} as const;

export type JpkiKind = 'sign' | 'auth';

export interface Basic4 {
  name: string;
  nameMask: string;
  /** JPKI code: '1' male, '2' female, other values kept as-is. */
  gender: string;
  /** ISO date decoded from `EYYYYMMDD` (era digit + Gregorian date). */
  birthDate: string;
  era: number;
  address: string;
  addressMask: string;
}

export interface ParsedProfile {
  kind: JpkiKind | undefined;
  policies: string[];
  keyUsage: { digitalSignature: boolean; nonRepudiation: boolean } | undefined;
  unknownCritical: string[];
  otherNames: Map<string, string>;
}

const KNOWN = new Set([
  id_ce_certificatePolicies,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  '2.5.29.19', // basicConstraints
  '2.5.29.35', // authorityKeyIdentifier
  '2.5.29.14', // subjectKeyIdentifier
  '2.5.29.31', // cRLDistributionPoints
  '1.3.6.1.5.5.7.1.1', // authorityInfoAccess
]);

const under = (oid: string, arc: string) => oid === arc || oid.startsWith(`${arc}.`);

export function parseProfile(der: Uint8Array): ParsedProfile {
  const cert = AsnConvert.parse(der, AsnCertificate);
  const out: ParsedProfile = {
    kind: undefined,
    policies: [],
    keyUsage: undefined,
    unknownCritical: [],
    otherNames: new Map(),
  };
  for (const ext of cert.tbsCertificate.extensions ?? []) {
    const value = ext.extnValue.buffer;
    if (ext.critical && !KNOWN.has(ext.extnID)) out.unknownCritical.push(ext.extnID);
    if (ext.extnID === id_ce_certificatePolicies) {
      out.policies = AsnConvert.parse(value, CertificatePolicies).map((p) => p.policyIdentifier);
    } else if (ext.extnID === id_ce_keyUsage) {
      const usage = AsnConvert.parse(value, KeyUsage).toNumber();
      out.keyUsage = {
        digitalSignature: (usage & KeyUsageFlags.digitalSignature) !== 0,
        nonRepudiation: (usage & KeyUsageFlags.nonRepudiation) !== 0,
      };
    } else if (ext.extnID === id_ce_subjectAltName) {
      for (const name of AsnConvert.parse(value, SubjectAlternativeName)) {
        if (!name.otherName) continue;
        const text = AsnConvert.parse(name.otherName.value, DirectoryString).utf8String;
        if (text === undefined) continue;
        if (out.otherNames.has(name.otherName.typeId))
          out.otherNames.set(name.otherName.typeId, '\u0000duplicate');
        else out.otherNames.set(name.otherName.typeId, text);
      }
    }
  }
  const sign = out.policies.some((p) => under(p, JPKI_OID.signPolicy));
  const auth = out.policies.some((p) => under(p, JPKI_OID.authPolicy));
  out.kind = sign && !auth ? 'sign' : auth && !sign ? 'auth' : undefined;
  return out;
}

/** Decodes `EYYYYMMDD`; undefined for anything that is not a real date in a known era (fail closed). */
export function decodeBirthDate(value: string): { era: number; iso: string } | undefined {
  const m = /^([1-5])(\d{4})(\d{2})(\d{2})$/.exec(value);
  if (!m) return undefined;
  const [, era, y, mo, d] = m;
  const iso = `${y}-${mo}-${d}`;
  const date = new Date(`${iso}T00:00:00Z`);
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== iso) return undefined;
  return { era: Number(era), iso };
}

/** The basic 4 info, or undefined when any item is missing, duplicated or malformed. */
export function extractBasic4(otherNames: Map<string, string>): Basic4 | undefined {
  const get = (oid: string) => {
    const v = otherNames.get(oid);
    return v === undefined || v === '\u0000duplicate' ? undefined : v;
  };
  const name = get(JPKI_OID.name);
  const nameMask = get(JPKI_OID.nameMask);
  const gender = get(JPKI_OID.gender);
  const birth = get(JPKI_OID.birthDate);
  const address = get(JPKI_OID.address);
  const addressMask = get(JPKI_OID.addressMask);
  if (!name || nameMask === undefined || !gender || !birth || !address || addressMask === undefined)
    return undefined;
  if ([...nameMask].length !== [...name].length || !/^[01]*$/.test(nameMask)) return undefined;
  if ([...addressMask].length !== [...address].length || !/^[01]*$/.test(addressMask)) return undefined;
  const dob = decodeBirthDate(birth);
  if (!dob) return undefined;
  return { name, nameMask, gender, birthDate: dob.iso, era: dob.era, address, addressMask };
}

/**
 * JPKI test material generated at run time: a test CA, card certificates in the JPKI profile
 * (policy OIDs, critical keyUsage, basic 4 info in subjectAltName otherNames), CRLs, and the card's
 * signature over a nonce (RSASSA-PKCS1-v1_5 / SHA-256, as the card computes it).
 */
import 'reflect-metadata';
import { sign as nodeSign, webcrypto } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { DirectoryString, GeneralName, OtherName, SubjectAlternativeName } from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as never);

const RSA = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
};
const DAY = 86_400_000;

export interface TestCa {
  cert: x509.X509Certificate;
  keys: webcrypto.CryptoKeyPair;
  der: Uint8Array;
  pem: string;
}

export async function createTestCa(
  name = 'CN=Tsunagu Test JPKI CA, OU=Test, O=Tsunagu, C=JP',
  now = new Date(),
): Promise<TestCa> {
  const keys = (await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name,
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + 3650 * DAY),
    keys,
    signingAlgorithm: RSA,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  return { cert, keys, der: new Uint8Array(cert.rawData), pem: cert.toString('pem') };
}

export interface Person {
  name: string;
  nameMask?: string;
  gender: string;
  birth: string;
  address: string;
  addressMask?: string;
}

export const TARO: Person = {
  name: '山田　太郎',
  gender: '1',
  birth: '419900102',
  address: '東京都千代田区霞が関１－１',
};

export interface Card {
  der: Uint8Array;
  base64: string;
  serial: string;
  privateKey: webcrypto.CryptoKey;
  sign(nonce: string): Promise<string>;
}

function san(person: Person): x509.Extension {
  const entry = (oid: string, value: string) =>
    new GeneralName({
      otherName: new OtherName({
        typeId: oid,
        value: AsnConvert.serialize(new DirectoryString({ utf8String: value })),
      }),
    });
  const mask = (s: string) => '0'.repeat([...s].length);
  const names = new SubjectAlternativeName([
    entry('1.2.392.200149.8.5.5.1', person.name),
    entry('1.2.392.200149.8.5.5.2', person.nameMask ?? mask(person.name)),
    entry('1.2.392.200149.8.5.5.3', person.gender),
    entry('1.2.392.200149.8.5.5.4', person.birth),
    entry('1.2.392.200149.8.5.5.5', person.address),
    entry('1.2.392.200149.8.5.5.6', person.addressMask ?? mask(person.address)),
  ]);
  return new x509.Extension('2.5.29.17', false, AsnConvert.serialize(names));
}

let nextSerial = 0x1000;

export async function issueCard(
  ca: TestCa,
  options: {
    kind: 'sign' | 'auth';
    person?: Person;
    now?: Date;
    notBefore?: Date;
    notAfter?: Date;
    keyUsage?: number;
    policy?: string;
  },
): Promise<Card> {
  const now = options.now ?? new Date();
  const keys = (await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const serial = (nextSerial++).toString(16).toUpperCase();
  const policy =
    options.policy ?? (options.kind === 'sign' ? '1.2.392.200149.8.5.1.1.20' : '1.2.392.200149.8.5.1.3.30');
  const usage =
    options.keyUsage ??
    (options.kind === 'sign'
      ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation
      : x509.KeyUsageFlags.digitalSignature);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: 'C=JP, L=Tokyo, L=Chiyoda, CN=TEST0001',
    issuer: ca.cert.subject,
    notBefore: options.notBefore ?? new Date(now.getTime() - DAY),
    notAfter: options.notAfter ?? new Date(now.getTime() + 365 * DAY),
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: RSA,
    extensions: [
      new x509.KeyUsagesExtension(usage, true),
      new x509.CertificatePolicyExtension([policy]),
      ...(options.kind === 'sign' ? [san(options.person ?? TARO)] : []),
    ],
  });
  const der = new Uint8Array(cert.rawData);
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return {
    der,
    base64: Buffer.from(der).toString('base64'),
    serial,
    privateKey: keys.privateKey,
    async sign(nonce) {
      const key = { key: pkcs8, format: 'der' as const, type: 'pkcs8' as const };
      return nodeSign('sha256', Buffer.from(nonce, 'utf8'), key).toString('base64');
    },
  };
}

export async function createCrl(
  ca: TestCa,
  revokedSerials: string[],
  options: { thisUpdate?: Date; nextUpdate?: Date } = {},
): Promise<Uint8Array> {
  const thisUpdate = options.thisUpdate ?? new Date(Date.now() - 3_600_000);
  const crl = await x509.X509CrlGenerator.create({
    issuer: ca.cert.subject,
    thisUpdate,
    nextUpdate: options.nextUpdate ?? new Date(thisUpdate.getTime() + DAY),
    entries: revokedSerials.map((serialNumber) => ({
      serialNumber,
      reason: x509.X509CrlReason.affiliationChanged,
    })),
    signingKey: ca.keys.privateKey,
    signingAlgorithm: RSA,
  });
  return new Uint8Array(crl.rawData);
}

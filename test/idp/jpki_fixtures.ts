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

/**
 * A test OCSP responder for `ca` (RFC 6960 over HTTP POST), signing with the CA key: `good` for
 * every serial except those in `revoked`; `tamper` flips a bit of the signature.
 */
export async function startOcspResponder(
  ca: TestCa,
  options: { revoked?: string[]; tamper?: boolean; thisUpdate?: () => Date } = {},
): Promise<{ url: string; requests: number; stop(): Promise<void> }> {
  const { createServer } = await import('node:http');
  const { createHash } = await import('node:crypto');
  const ocsp = await import('@peculiar/asn1-ocsp');
  const { OctetString } = await import('@peculiar/asn1-schema');
  const { AlgorithmIdentifier, Certificate: AsnCertificate } = await import('@peculiar/asn1-x509');
  const caKey = {
    key: Buffer.from(await webcrypto.subtle.exportKey('pkcs8', ca.keys.privateKey)),
    format: 'der' as const,
    type: 'pkcs8' as const,
  };
  const caAsn = AsnConvert.parse(ca.der, AsnCertificate);
  const keyHash = createHash('sha1')
    .update(new Uint8Array(caAsn.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey))
    .digest();
  const revoked = new Set(options.revoked ?? []);
  const state = { requests: 0 };
  const server = createServer(async (req, res) => {
    state.requests += 1;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request = AsnConvert.parse(Buffer.concat(chunks), ocsp.OCSPRequest);
    const certID = request.tbsRequest.requestList[0]!.reqCert;
    const serial = Buffer.from(certID.serialNumber)
      .toString('hex')
      .toUpperCase()
      .replace(/^(00)+(?=.)/, '');
    const now = options.thisUpdate?.() ?? new Date();
    const data = new ocsp.ResponseData({
      responderID: new ocsp.ResponderID({ byKey: new ocsp.KeyHash(keyHash) }),
      producedAt: now,
      responses: [
        new ocsp.SingleResponse({
          certID,
          certStatus: revoked.has(serial)
            ? new ocsp.CertStatus({
                revoked: new ocsp.RevokedInfo({ revocationTime: new Date(now.getTime() - 60_000) }),
              })
            : new ocsp.CertStatus({ good: null }),
          thisUpdate: now,
          nextUpdate: new Date(now.getTime() + 3_600_000),
        }),
      ],
    });
    const signature = nodeSign('sha256', Buffer.from(AsnConvert.serialize(data)), caKey);
    if (options.tamper) signature[5] = (signature[5] ?? 0) ^ 1;
    const basic = new ocsp.BasicOCSPResponse({
      tbsResponseData: data,
      signatureAlgorithm: new AlgorithmIdentifier({ algorithm: '1.2.840.113549.1.1.11', parameters: null }),
      signature: new Uint8Array(signature).buffer,
    });
    const response = new ocsp.OCSPResponse({
      responseStatus: ocsp.OCSPResponseStatus.successful,
      responseBytes: new ocsp.ResponseBytes({
        responseType: ocsp.id_pkix_ocsp_basic,
        response: new OctetString(AsnConvert.serialize(basic)),
      }),
    });
    res.setHeader('content-type', 'application/ocsp-response');
    res.end(Buffer.from(AsnConvert.serialize(response)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/ocsp`,
    get requests() {
      return state.requests;
    },
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

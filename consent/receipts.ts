/**
 * Consent receipts: a Kantara Consent Receipt v1.1 JSON with the ISO/IEC TS 27560 sections (header,
 * processing, parties, events) beside it, signed as a compact JWS (EdDSA/Ed25519) by a key whose
 * private half is sealed at rest. Anyone can verify a receipt with the public keys at
 * `GET /api/consent/receipt-keys`.
 */
import { CompactSign, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { Database } from '../core/index.ts';
import { DATA_ITEMS, isDataItem } from './data_items.ts';
import type { Notice } from './notices.ts';
import type { ConsentEvent, ConsentRecord } from './records.ts';
import type { Sealer } from './seal.ts';

export interface ReceiptKeys {
  /** Creates the first key when there is none. */
  ensure(): Promise<void>;
  sign(payload: Uint8Array): Promise<{ jws: string; kid: string }>;
  jwks(): Promise<{ keys: JWK[] }>;
}

const PURPOSE = 'consent-receipt-key';

export function createReceiptKeys(db: Database, sealer: Sealer, now: () => Date): ReceiptKeys {
  let current: { kid: string; key: Awaited<ReturnType<typeof importJWK>> } | undefined;
  const load = async () => {
    if (current) return current;
    const { rows } = await db.query<{ kid: string; sealed_private: string }>(
      'SELECT kid, sealed_private FROM consent.signing_keys ORDER BY created_at DESC, kid LIMIT 1',
    );
    const row = rows[0];
    if (!row) throw new Error('no consent receipt key: start the module first');
    const jwk = JSON.parse(sealer.open(`${PURPOSE}:${row.kid}`, row.sealed_private)) as JWK;
    current = { kid: row.kid, key: await importJWK(jwk, 'EdDSA') };
    return current;
  };
  return {
    async ensure() {
      const { rows } = await db.query('SELECT 1 FROM consent.signing_keys LIMIT 1');
      if (rows.length > 0) return;
      const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
      const pub = await exportJWK(publicKey);
      const kid = await calculateJwkThumbprint(pub);
      const priv = { ...(await exportJWK(privateKey)), kid };
      // Two instances starting together: the first insert wins, the other keeps its key unused.
      await db.query(
        `INSERT INTO consent.signing_keys (kid, public_jwk, sealed_private, created_at)
         SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM consent.signing_keys)`,
        [
          kid,
          JSON.stringify({ ...pub, kid, alg: 'EdDSA', use: 'sig' }),
          sealer.seal(`${PURPOSE}:${kid}`, JSON.stringify(priv)),
          now(),
        ],
      );
    },
    async sign(payload) {
      const { kid, key } = await load();
      const jws = await new CompactSign(payload)
        .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'JWT' })
        .sign(key);
      return { jws, kid };
    },
    async jwks() {
      const { rows } = await db.query<{ public_jwk: JWK }>(
        'SELECT public_jwk FROM consent.signing_keys ORDER BY created_at DESC',
      );
      return { keys: rows.map((r) => r.public_jwk) };
    },
  };
}

export interface ReceiptOptions {
  controller: { name: string; contact: string; address: string; email: string; phone: string };
  jurisdiction: string;
}

/** The receipt of one record (with its pair partner for a data flow) as of its current version. */
export function buildReceipt(
  record: ConsentRecord,
  pair: ConsentRecord | undefined,
  events: ConsentEvent[],
  notice: Notice,
  options: ReceiptOptions,
): Record<string, unknown> {
  const item = isDataItem(record.dataItem)
    ? DATA_ITEMS[record.dataItem]
    : { ja: record.dataItem, en: record.dataItem };
  const flow = record.sourceService !== null;
  return {
    // Kantara Consent Receipt Specification v1.1.0
    version: 'KI-CR-v1.1.0',
    jurisdiction: options.jurisdiction,
    consentTimestamp: Math.floor(Date.parse(record.createdAt) / 1000),
    collectionMethod: record.collectionMethod,
    consentReceiptID: `${record.id}:v${record.version}`,
    language: record.language,
    piiPrincipalId: record.resident,
    piiControllers: [{ piiController: options.controller.name, ...pick(options.controller) }],
    policyUrl: notice.url ?? `urn:tsunagu:notice:${notice.noticeId}:v${notice.version}`,
    services: [
      {
        service: record.recipientService,
        purposes: [
          {
            purpose: record.purpose,
            purposeCategory: [record.purpose],
            consentType: 'EXPLICIT',
            piiCategory: [`${item.ja} / ${item.en}`],
            primaryPurpose: true,
            termination: record.validUntil ?? 'until withdrawn (撤回まで)',
            thirdPartyDisclosure: flow,
            ...(flow ? { thirdPartyName: record.recipientService } : {}),
          },
        ],
      },
    ],
    sensitive: false,
    spiCat: [],
    // ISO/IEC TS 27560:2023 sections
    iso27560: {
      header: { schemaVersion: 'ISO/IEC TS 27560:2023', recordId: record.id, recordVersion: record.version },
      processing: {
        purposes: [record.purpose],
        piiTypes: [record.dataItem],
        privacyNotice: {
          id: notice.noticeId,
          version: notice.version,
          title: { ja: notice.titleJa, en: notice.titleEn },
        },
        lawfulBasis: record.legalBasis,
        validity: { from: record.validFrom, until: record.validUntil },
        withdrawalMethod: record.withdrawalMethod,
        recipients: [record.recipientService],
        ...(flow
          ? {
              source: record.sourceService,
              dataFlow: {
                pairId: record.pairId,
                side: record.side,
                pairedRecordId: pair?.id ?? null,
                pairedRecordState: pair?.state ?? null,
              },
            }
          : {}),
      },
      parties: [
        { role: 'pii-principal', id: record.resident },
        { role: 'pii-controller', name: options.controller.name },
        { role: 'recipient', id: record.recipientService },
        ...(flow ? [{ role: 'source', id: record.sourceService }] : []),
      ],
      state: record.state,
      events: events.map((e) => ({
        type: e.type,
        state: e.state,
        version: e.version,
        at: e.at,
        by: e.actor,
        noticeVersion: e.noticeVersion,
      })),
    },
  };
}

function pick(c: ReceiptOptions['controller']) {
  return { contact: c.contact, address: c.address, email: c.email, phone: c.phone, onBehalf: false };
}

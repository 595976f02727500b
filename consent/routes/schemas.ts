/** JSON Schemas shared by the consent routes. */
import { DATA_ITEM_CODES } from '../data_items.ts';

export const code = { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' };
export const serviceId = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$' };
export const dataItem = { enum: DATA_ITEM_CODES };
export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', format: 'uuid' } },
};

const record = {
  type: 'object',
  required: ['id', 'side', 'dataItem', 'recipientService', 'purpose', 'notice', 'state', 'version'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    pairId: { type: ['string', 'null'] },
    side: { enum: ['direct', 'source', 'sink'] },
    dataItem: { type: 'string' },
    sourceService: { type: ['string', 'null'] },
    recipientService: { type: 'string' },
    purpose: { type: 'string' },
    notice: { type: 'object' },
    state: { enum: ['given', 'paused', 'withdrawn', 'expired'] },
    version: { type: 'integer' },
    validFrom: { type: 'string', format: 'date-time' },
    validUntil: { type: ['string', 'null'], format: 'date-time' },
  },
};

export const changeResponse = {
  type: 'object',
  properties: { consents: { type: 'array', items: record }, changed: { type: 'integer' } },
};
export const recordSchema = record;

export const giveBody = {
  type: 'object',
  additionalProperties: false,
  required: ['service', 'items', 'purpose', 'notice'],
  properties: {
    service: serviceId,
    items: { type: 'array', minItems: 1, maxItems: 20, uniqueItems: true, items: dataItem },
    purpose: code,
    notice: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'version'],
      properties: { id: code, version: { type: 'integer', minimum: 1 } },
    },
    source: serviceId,
    validUntil: { type: 'string', format: 'date-time' },
    language: { enum: ['ja', 'en'] },
  },
};

export const decisionBody = {
  type: 'object',
  additionalProperties: false,
  required: ['subject', 'item', 'purpose'],
  properties: {
    subject: { type: 'string', minLength: 1, maxLength: 200 },
    item: dataItem,
    purpose: code,
    source: serviceId,
    recipient: serviceId,
  },
};

export const decisionResponse = {
  type: 'object',
  required: ['decision'],
  properties: {
    decision: { enum: ['allow', 'deny'] },
    reason: { type: 'string' },
    consentId: { type: 'string' },
    version: { type: 'integer' },
  },
};

export const noticeBody = {
  type: 'object',
  additionalProperties: false,
  required: ['noticeId', 'service', 'purposes', 'titleJa', 'titleEn', 'bodyJa', 'bodyEn', 'material'],
  properties: {
    noticeId: code,
    service: serviceId,
    purposes: { type: 'array', minItems: 1, maxItems: 20, uniqueItems: true, items: code },
    titleJa: { type: 'string', minLength: 1, maxLength: 200 },
    titleEn: { type: 'string', minLength: 1, maxLength: 200 },
    bodyJa: { type: 'string', minLength: 1, maxLength: 20000 },
    bodyEn: { type: 'string', minLength: 1, maxLength: 20000 },
    url: { type: 'string', format: 'uri', maxLength: 2000 },
    material: { type: 'boolean' },
  },
};

/**
 * Parses a webhook request body as LINE publishes it (Messaging API reference, "Webhook Event
 * Objects"): `{ destination, events: [...] }`, each event with `type`, `mode`, `timestamp`,
 * `webhookEventId` and `deliveryContext`. Fields we act on are checked strictly; fields we do not
 * use are let through, since LINE adds new ones without notice.
 */
import { Ajv } from 'ajv';
import type { webhook } from '@line/bot-sdk';
import { ProblemError } from '../../core/index.ts';
import '../kit/problems.ts';

const userId = { type: 'string', pattern: '^U[0-9a-f]{32}$' };

const SCHEMA = {
  type: 'object',
  required: ['destination', 'events'],
  properties: {
    destination: { type: 'string', minLength: 1, maxLength: 64 },
    events: {
      type: 'array',
      maxItems: 100,
      items: {
        type: 'object',
        required: ['type', 'mode', 'timestamp', 'webhookEventId', 'deliveryContext'],
        properties: {
          type: { type: 'string', minLength: 1, maxLength: 64 },
          mode: { enum: ['active', 'standby'] },
          timestamp: { type: 'integer', minimum: 0 },
          webhookEventId: { type: 'string', pattern: '^[0-9A-Za-z]{1,64}$' },
          deliveryContext: {
            type: 'object',
            required: ['isRedelivery'],
            properties: { isRedelivery: { type: 'boolean' } },
          },
          replyToken: { type: 'string', minLength: 1, maxLength: 256 },
          source: {
            type: 'object',
            required: ['type'],
            properties: { type: { enum: ['user', 'group', 'room'] }, userId },
          },
          message: {
            type: 'object',
            required: ['type', 'id'],
            properties: {
              type: { type: 'string' },
              id: { type: 'string' },
              text: { type: 'string', maxLength: 10000 },
            },
          },
          postback: {
            type: 'object',
            required: ['data'],
            properties: { data: { type: 'string', maxLength: 300 } },
          },
          link: {
            type: 'object',
            required: ['result', 'nonce'],
            properties: { result: { enum: ['ok', 'failed'] }, nonce: { type: 'string', maxLength: 255 } },
          },
        },
      },
    },
  },
} as const;

const validate = new Ajv({ allErrors: false, strict: false }).compile(SCHEMA);

export type LineEvent = webhook.Event & {
  webhookEventId: string;
  deliveryContext: { isRedelivery: boolean };
  mode: 'active' | 'standby';
};

export interface WebhookBody {
  destination: string;
  events: LineEvent[];
}

export function parseWebhookBody(raw: Buffer): WebhookBody {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ProblemError('payload-malformed', { detail: 'The body is not JSON.' });
  }
  if (!validate(body)) {
    const e = validate.errors?.[0];
    throw new ProblemError('payload-malformed', {
      detail: `Not a LINE webhook body: ${e?.instancePath || '/'} ${e?.message ?? 'invalid'}`,
    });
  }
  return body as unknown as WebhookBody;
}

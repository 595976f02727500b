/**
 * A card touch as the terminal sends it (see README, "Terminal protocol"). The body is parsed here,
 * after the signature over its raw bytes held; anything off the protocol is 400 `payload-malformed`.
 */
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { ProblemError } from '../../core/index.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export const ACTIONS = ['arrival', 'departure', 'check-in', 'check-out', 'entry', 'ride'] as const;
export type TouchAction = (typeof ACTIONS)[number];

export interface CardTouch {
  touchId: string;
  facility: string;
  card: { type: 'city-id' | 'jpki-auth-serial'; value: string; issuer?: string };
  action?: TouchAction;
  at: string;
}

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['touchId', 'facility', 'card', 'at'],
  properties: {
    touchId: { type: 'string', pattern: '^[\\x21-\\x7e]{1,128}$' },
    facility: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' },
    card: {
      oneOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['type', 'value'],
          properties: { type: { const: 'city-id' }, value: { type: 'string', pattern: '^[A-Z0-9-]{8,64}$' } },
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['type', 'value'],
          properties: {
            type: { const: 'jpki-auth-serial' },
            value: { type: 'string', pattern: '^[0-9A-Fa-f]{1,40}$' },
            issuer: { type: 'string', minLength: 1, maxLength: 500 },
          },
        },
      ],
    },
    action: { enum: ACTIONS },
    at: { type: 'string', format: 'date-time' },
  },
};

const ajv = new Ajv({ allErrors: false, strict: false });
addFormats(ajv);
const validate = ajv.compile<CardTouch>(schema);

export function parseTouch(body: Buffer): CardTouch {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ProblemError('payload-malformed', { detail: 'The body is not JSON.' });
  }
  if (!validate(value)) {
    const e = validate.errors?.[0];
    throw new ProblemError('payload-malformed', {
      detail: `${e?.instancePath || 'body'}: ${e?.message ?? 'invalid'}`,
    });
  }
  return value;
}

/** A registration desk asks for a city ID for the card on its reader. */
export interface CityIdRequest {
  requestId: string;
  card: { type: 'jpki-auth-serial'; value: string; issuer?: string };
}

const validateIssue = ajv.compile<CityIdRequest>({
  type: 'object',
  additionalProperties: false,
  required: ['requestId', 'card'],
  properties: {
    requestId: { type: 'string', pattern: '^[\\x21-\\x7e]{1,128}$' },
    card: schema.properties.card.oneOf[1],
  },
});

export function parseCityIdRequest(body: Buffer): CityIdRequest {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ProblemError('payload-malformed', { detail: 'The body is not JSON.' });
  }
  if (!validateIssue(value)) {
    const e = validateIssue.errors?.[0];
    throw new ProblemError('payload-malformed', {
      detail: `${e?.instancePath || 'body'}: ${e?.message ?? 'invalid'}`,
    });
  }
  return value;
}

/** JSON Schemas shared by the points routes. */
export const code = { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' } as const;
export const holder = { type: 'string', minLength: 1, maxLength: 200 } as const;
export const amount = { type: 'integer', minimum: 1, maximum: 1_000_000_000_000 } as const;
export const isoTime = { type: 'string', format: 'date-time' } as const;

export const journalSchema = {
  type: 'object',
  properties: {
    ok: { type: 'boolean' },
    journalId: { type: 'string' },
    kind: { type: 'string' },
    createdAt: { type: 'string' },
    postings: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          currency: { type: 'string' },
          kind: { type: 'string' },
          holder: { type: 'string' },
          amount: { type: 'integer' },
          balanceAfter: { type: 'integer' },
        },
      },
    },
  },
} as const;

export const balanceParams = {
  type: 'object',
  required: ['currency', 'holder'],
  properties: { currency: code, holder },
} as const;

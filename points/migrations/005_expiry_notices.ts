/** Which lots residents were already told about before they expire (one notice per lot). */
export const EXPIRY_NOTICES_SQL = `
CREATE TABLE points.expiry_notice (
  lot_id   bigint      PRIMARY KEY,
  sent_at  timestamptz NOT NULL
);
`;

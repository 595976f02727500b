/** What the resident pages show of the points ledger: balances per currency and point type, posting labels. */
import type { PointsService } from '../../points/index.ts';

export interface PointTypeBalance {
  code: string;
  name: string;
  amount: number;
  /** The soonest expiry among this type's lots, and how much expires then. */
  nextExpiry: { at: string; amount: number } | null;
}

export interface CurrencyBalance {
  currency: string;
  name: string;
  municipality: string;
  spendable: number;
  types: PointTypeBalance[];
}

/** Every currency the resident holds, with the spendable amount per point type (expired lots left out). */
export async function residentBalances(points: PointsService, resident: string): Promise<CurrencyBalance[]> {
  const out: CurrencyBalance[] = [];
  for (const h of await points.holdings({ holder: resident })) {
    const b = await points.balance({ currency: h.currency, holder: resident });
    const types = new Map<string, PointTypeBalance>();
    for (const lot of b.lots) {
      if (lot.expired) continue;
      const t = types.get(lot.pointType) ?? {
        code: lot.pointType,
        name: h.pointTypes[lot.pointType] ?? lot.pointType,
        amount: 0,
        nextExpiry: null,
      };
      t.amount += lot.amount;
      if (lot.expiresAt) {
        if (!t.nextExpiry || lot.expiresAt < t.nextExpiry.at)
          t.nextExpiry = { at: lot.expiresAt, amount: lot.amount };
        else if (lot.expiresAt === t.nextExpiry.at) t.nextExpiry.amount += lot.amount;
      }
      types.set(lot.pointType, t);
    }
    out.push({
      currency: h.currency,
      name: h.name,
      municipality: h.municipality,
      spendable: b.spendable,
      types: [...types.values()],
    });
  }
  return out;
}

export const POSTING_TEXT: Record<string, [string, string]> = {
  grant: ['付与', 'Granted'],
  charge: ['チャージ', 'Charged'],
  payment: ['支払い', 'Payment'],
  exchange: ['交換', 'Exchange'],
  exchange_hold: ['交換（処理中）', 'Exchange (pending)'],
  exchange_settle: ['交換の確定', 'Exchange settled'],
  campaign: ['キャンペーン', 'Campaign'],
  claim: ['精算', 'Claim'],
  expiry: ['有効期限切れ', 'Expired'],
  reversal: ['取り消し', 'Reversal'],
  fund: ['原資', 'Funding'],
};

export const amountText = (n: number) => `${n.toLocaleString('ja-JP')} pt`;
export const signed = (n: number) =>
  `${n > 0 ? '+' : n < 0 ? '−' : ''}${Math.abs(n).toLocaleString('ja-JP')} pt`;

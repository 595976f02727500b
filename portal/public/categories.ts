/** Shop categories of the directory (a fixed list, so search by category is exact and translatable). */
export const CATEGORIES = [
  { code: 'grocery', ja: '食料品・スーパー', en: 'Groceries' },
  { code: 'restaurant', ja: '飲食店', en: 'Restaurants' },
  { code: 'cafe', ja: 'カフェ・喫茶', en: 'Cafés' },
  { code: 'retail', ja: '小売・雑貨', en: 'Shops' },
  { code: 'clothing', ja: '衣料品', en: 'Clothing' },
  { code: 'beauty', ja: '理容・美容', en: 'Hair and beauty' },
  { code: 'health', ja: '医療・薬局', en: 'Health and pharmacy' },
  { code: 'services', ja: '生活サービス', en: 'Services' },
  { code: 'lodging', ja: '宿泊', en: 'Lodging' },
  { code: 'leisure', ja: '観光・レジャー', en: 'Leisure and sightseeing' },
  { code: 'transport', ja: '交通', en: 'Transport' },
  { code: 'other', ja: 'その他', en: 'Other' },
] as const;

export type CategoryCode = (typeof CATEGORIES)[number]['code'];

const BY_CODE = new Map<string, (typeof CATEGORIES)[number]>(CATEGORIES.map((c) => [c.code, c]));

export function category(code: string | null | undefined): { ja: string; en: string } {
  return BY_CODE.get(code ?? '') ?? { ja: '未分類', en: 'Uncategorised' };
}

export function isCategory(code: unknown): code is CategoryCode {
  return typeof code === 'string' && BY_CODE.has(code);
}

/** Kinds of municipal activities that grant points (where to earn). */
export const EARN_KINDS = [
  { code: 'event', ja: 'イベント', en: 'Event' },
  { code: 'checkup', ja: '健診・検診', en: 'Health check-up' },
  { code: 'course', ja: '講座・教室', en: 'Course' },
  { code: 'volunteer', ja: 'ボランティア', en: 'Volunteering' },
  { code: 'health', ja: '健康づくり', en: 'Health activity' },
  { code: 'sdgs', ja: 'SDGs・環境', en: 'SDGs and environment' },
  { code: 'survey', ja: 'アンケート', en: 'Survey' },
  { code: 'other', ja: 'その他', en: 'Other' },
] as const;

export function earnKind(code: string): { ja: string; en: string } {
  return EARN_KINDS.find((k) => k.code === code) ?? { ja: 'その他', en: 'Other' };
}

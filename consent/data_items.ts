/**
 * The data items a consent can be about (27560 "PII type"). Each of the basic 4 info (基本4情報) is
 * its own item, so a resident can share a birth date without sharing an address.
 */
export interface DataItem {
  ja: string;
  en: string;
  basic4: boolean;
}

export const DATA_ITEMS = {
  name: { ja: '氏名', en: 'Name', basic4: true },
  address: { ja: '住所', en: 'Address', basic4: true },
  birthdate: { ja: '生年月日', en: 'Date of birth', basic4: true },
  gender: { ja: '性別', en: 'Gender', basic4: true },
  email: { ja: 'メールアドレス', en: 'E-mail address', basic4: false },
  phone: { ja: '電話番号', en: 'Phone number', basic4: false },
  'points-history': { ja: 'ポイント履歴', en: 'Points history', basic4: false },
  'activity-records': { ja: '活動記録', en: 'Activity records', basic4: false },
  'health-records': { ja: '健康記録', en: 'Health records', basic4: false },
} as const satisfies Record<string, DataItem>;

export type DataItemCode = keyof typeof DATA_ITEMS;
export const DATA_ITEM_CODES = Object.keys(DATA_ITEMS) as DataItemCode[];

export function isDataItem(code: string): code is DataItemCode {
  return Object.hasOwn(DATA_ITEMS, code);
}

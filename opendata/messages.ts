/**
 * The validation report's vocabulary: every rule id with its severity and its text in Japanese
 * (first) and English. Where a rule comes from the Digital Agency's 機械可読性ルール its id is cited.
 */

export type Severity = 'error' | 'warning' | 'info';

interface RuleText {
  severity: Severity;
  ja: string;
  en: string;
}

export const RULES: Record<string, RuleText> = {
  'csv.metadata-rows': {
    severity: 'info',
    ja: '見出し行より上の行をメタデータとして読み飛ばしました（L3-01: 見出しは1行目に）',
    en: 'Rows above the header were skipped as metadata (L3-01: header on line 1)',
  },
  'csv.trailing-empty-column': {
    severity: 'info',
    ja: '見出しも値も空の末尾の列を削除しました（Excel の空列）',
    en: 'Dropped a trailing column with an empty header and no values (Excel artefact)',
  },
  'csv.dropped-column': {
    severity: 'info',
    ja: '指定により列を除外しました',
    en: 'Column dropped as requested',
  },
  'csv.unknown-column': {
    severity: 'info',
    ja: '標準にない列です。拡張項目として登録します',
    en: 'Not a standard column; kept as an extension attribute',
  },
  'csv.duplicate-header': {
    severity: 'error',
    ja: '見出しが重複しています（L2-03）',
    en: 'Duplicate header name (L2-03)',
  },
  'csv.empty-header': {
    severity: 'error',
    ja: '見出しが空の列に値があります（L1-05）',
    en: 'A column with an empty header has values (L1-05)',
  },
  'csv.empty-record': {
    severity: 'info',
    ja: 'すべて空の行を読み飛ばしました',
    en: 'Skipped a record whose cells are all empty',
  },
  'csv.too-many-fields': {
    severity: 'error',
    ja: '見出しより列が多く、余分な列に値があります',
    en: 'More fields than header columns, and the extra fields have values',
  },
  'csv.too-few-fields': {
    severity: 'warning',
    ja: '見出しより列が少ないため、不足分を空として扱いました',
    en: 'Fewer fields than header columns; the missing ones are treated as empty',
  },
  'csv.line-break-in-cell': {
    severity: 'warning',
    ja: 'セル内に改行があります（L1-14）。そのまま登録します',
    en: 'Line break inside a cell (L1-14); kept as is',
  },
  'text.platform-dependent': {
    severity: 'warning',
    ja: '機種依存文字があります（L1-08）。そのまま登録します',
    en: 'Platform-dependent character (L1-08); kept as is',
  },
  'required.missing': { severity: 'error', ja: '必須項目が空です', en: 'Required item is empty' },
  'schema.invalid': {
    severity: 'error',
    ja: '定義書の形式に合いません',
    en: 'Does not match the dataset definition',
  },
  'code6.leading-zero': {
    severity: 'warning',
    ja: '先頭の0が欠けた全国地方公共団体コードを補いました',
    en: 'Restored the lost leading zero of the local government code',
  },
  'code6.check-digit-added': {
    severity: 'warning',
    ja: '5桁の団体コードに検査数字を付けました',
    en: 'Added the check digit to a 5-digit local government code',
  },
  'code6.invalid': {
    severity: 'error',
    ja: '全国地方公共団体コードが不正です（6桁・検査数字）',
    en: 'Invalid local government code (6 digits with check digit)',
  },
  'width.halfwidth': {
    severity: 'warning',
    ja: '全角の英数字・記号を半角にしました',
    en: 'Converted full-width ASCII characters to half-width',
  },
  'kana.halfwidth': { severity: 'warning', ja: '半角カナを全角にしました', en: 'Converted half-width kana' },
  'date.format': {
    severity: 'warning',
    ja: '日付を YYYY-MM-DD 形式にしました',
    en: 'Rewrote the date as YYYY-MM-DD',
  },
  'date.wareki': {
    severity: 'warning',
    ja: '和暦を西暦にしました（L3-05）',
    en: 'Converted a Japanese era date to the Gregorian calendar (L3-05)',
  },
  'date.excel-serial': {
    severity: 'warning',
    ja: 'Excel のシリアル値を日付にしました',
    en: 'Converted an Excel serial number to a date',
  },
  'date.sentinel': {
    severity: 'error',
    ja: '1899/1900年の日付は Excel の空値です。正しい日付を入力してください',
    en: 'A 1899/1900 date is an Excel placeholder; enter the real date',
  },
  'date.invalid': { severity: 'error', ja: '日付として読めません', en: 'Not a valid date' },
  'time.format': { severity: 'warning', ja: '時刻を hh:mm 形式にしました', en: 'Rewrote the time as hh:mm' },
  'time.free-text': {
    severity: 'warning',
    ja: '時刻として読めないため文字列のまま登録します',
    en: 'Not a time; kept as text',
  },
  'number.format': {
    severity: 'warning',
    ja: '数値から桁区切り・単位・全角を除きました（L2-01）',
    en: 'Removed separators, units or full-width digits from a number (L2-01)',
  },
  'number.invalid': { severity: 'error', ja: '数値として読めません', en: 'Not a number' },
  'excel.exponent': {
    severity: 'error',
    ja: 'Excel の指数表記（例 4.00E+12）で桁が失われています。元の値を入力してください',
    en: 'Excel exponent notation (e.g. 4.00E+12) lost digits; enter the original value',
  },
  'corporate.invalid': {
    severity: 'error',
    ja: '法人番号は13桁の数字です',
    en: 'Corporate number must be 13 digits',
  },
  'flag.mark': {
    severity: 'warning',
    ja: '○などの記号を 1 にしました',
    en: 'Converted a mark such as ○ to 1',
  },
  'flag.invalid': { severity: 'error', ja: '1 または空欄で入力してください', en: 'Use 1 or leave empty' },
  'umu.word': { severity: 'warning', ja: '有/無 に統一しました', en: 'Normalised to 有/無' },
  'umu.invalid': {
    severity: 'warning',
    ja: '有/無 以外の値です（L2-04）。そのまま登録します',
    en: 'Not 有/無 (L2-04); kept as is',
  },
  'phone.parentheses': {
    severity: 'warning',
    ja: '電話番号の括弧をハイフンにしました（括弧は NGSI の禁止文字）',
    en: 'Replaced parentheses in a phone number with hyphens (forbidden in NGSI)',
  },
  'list.separator': {
    severity: 'warning',
    ja: '全角の ； を ; にしました',
    en: 'Replaced full-width ； with ;',
  },
  'coord.invalid': {
    severity: 'error',
    ja: '緯度・経度が数値ではありません',
    en: 'Latitude/longitude is not a number',
  },
  'coord.swapped': {
    severity: 'warning',
    ja: '緯度と経度が入れ替わっていたため入れ替えました',
    en: 'Latitude and longitude were swapped; swapped them back',
  },
  'coord.combined': {
    severity: 'warning',
    ja: '「緯度,経度」が1つのセルにあったため分けました',
    en: 'Split "lat,lon" written in one cell',
  },
  'coord.outside-japan': {
    severity: 'warning',
    ja: '日本の範囲外の位置です。位置情報なしで登録します',
    en: 'Point is outside Japan; registered without a location',
  },
  'id.generated': {
    severity: 'warning',
    ja: 'ID が空または NGSI で使えない文字を含むため、名称と所在地から ID を生成しました',
    en: 'ID empty or not usable in NGSI; generated a deterministic id from name and address',
  },
  'id.duplicate': { severity: 'error', ja: 'ID が重複しています', en: 'Duplicate ID' },
};

export function ruleText(rule: string): RuleText {
  return RULES[rule] ?? { severity: 'error', ja: rule, en: rule };
}

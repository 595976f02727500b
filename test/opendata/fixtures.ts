/**
 * Small CSV files built to look like real municipal ones (see ../shared/notes/opendata.md): legacy
 * 推奨データセット headers in Shift_JIS with CP932-only characters, current 定義書A headers in UTF-8
 * with BOM, Excel's trailing empty columns, metadata rows above the header, multi-line cells.
 */
import iconv from 'iconv-lite';

export const sjis = (text: string): Buffer => iconv.encode(text, 'cp932');
export const utf8Bom = (text: string): Buffer =>
  Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);

export async function* chunksOf(bytes: Uint8Array, size = 7): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/**
 * Legacy AED file (Shift_JIS, CRLF): two metadata rows, Excel trailing empty column, a multi-line
 * cell, CP932 characters (①, 髙, ｶﾅ), and one repair or error per row. Line numbers matter: the
 * tests assert them.
 */
export const LEGACY_AED = [
  '#title,AED設置箇所一覧,,,,,,,,,,,,,,',
  '#更新日,2026-04-01,,,,,,,,,,,,,,',
  '都道府県コード又は市区町村コード,NO,都道府県名,市区町村名,名称,名称_カナ,住所,方書,緯度,経度,設置位置,電話番号,開始時間,小児対応設備の有無,備考,',
  // line 4: clean row (phone with parentheses → repaired)
  '092011,1,栃木県,宇都宮市,宇都宮市役所,ウツノミヤシヤクショ,栃木県宇都宮市旭1-1-5,,36.5551,139.8828,1階①ロビー,(028)632-2222,8:30,有,',
  // line 5: lost leading zero in code, half-width kana, full-width colon time, ○ for 有
  '92011,2,栃木県,宇都宮市,髙松公民館,ﾀｶﾏﾂｺｳﾐﾝｶﾝ,栃木県宇都宮市髙松町1,,36.6,139.9,事務室,028-600-0000,9：00,○,',
  // lines 6–7: a quoted cell spanning two lines; swapped coordinates
  '092011,3,栃木県,宇都宮市,中央生涯学習センター,チュウオウ,栃木県宇都宮市中央1-1-13,,139.87,36.55,"2階\r\n受付横",,,,"備考は(括弧)付き"',
  // line 8: empty name (required) → error
  '092011,4,栃木県,宇都宮市,,,栃木県宇都宮市本町1,,36.56,139.88,玄関,,,無,',
  // line 9: all empty → skipped
  ',,,,,,,,,,,,,,,',
  // line 10: Excel exponent in code → error; out-of-Japan point → warning
  '9.20E+04,5,栃木県,宇都宮市,宇都宮駅,ウツノミヤエキ,栃木県宇都宮市川向町1-23,,0,0,改札,,,,',
  '',
].join('\r\n');

/** Current-generation 観光施設 header (UTF-8 with BOM), with one unknown local column. */
export const CURRENT_TOURISM = [
  '全国地方公共団体コード,ID,地方公共団体名,名称,名称_カナ,所在地_連結表記,緯度,経度,説明,開始時間,料金(基本),地元独自項目',
  '222127,T001,静岡県焼津市,焼津さかなセンター,ヤイヅサカナセンター,静岡県焼津市八楠4-13-7,34.8640,138.3092,"市場; 食堂 (LO.13:30)",9:00,"1,000",魚',
  '222127,,静岡県焼津市,ディスカバリーパーク焼津,ディスカバリーパークヤイヅ,静岡県焼津市田尻2968-1,34.8280,138.3170,プラネタリウム,10時,,',
  '',
].join('\n');

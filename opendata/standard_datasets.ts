/**
 * Column definitions of the 自治体標準オープンデータセット (定義書A, current headers) with the aliases of
 * the older 推奨データセット 基本編 headers still published, and the NGSIv2 naming of each: one ASCII
 * entity type per dataset and the standard's English item names as attribute names. The Japanese
 * item names stay in this dictionary (served by the API), never in the broker as names.
 *
 * Kinds decide how a value is checked and repaired (`repair_value.ts`) and typed (`to_entity.ts`).
 */

export type ColumnKind =
  | 'text' // free text: never normalised
  | 'code6' // 全国地方公共団体コード (JIS X 0402 with check digit)
  | 'id' // identifier within the municipality
  | 'kana' // 全角カタカナ
  | 'lat'
  | 'lon'
  | 'date'
  | 'time'
  | 'number'
  | 'phone'
  | 'url'
  | 'list' // `;`-separated values
  | 'flag' // 1 / blank (災害種別, 重複)
  | 'umu' // 有 / 無
  | 'corporate'; // 法人番号, 13 digits

export interface ColumnDef {
  /** The current (定義書A) item name. */
  name: string;
  /** Other header spellings: the legacy generation, English, common variants. */
  aliases?: string[];
  /** NGSIv2 attribute name (ASCII). */
  attr: string;
  kind: ColumnKind;
  required?: boolean;
  /** Marks the ID and coordinate columns of a custom mapping (standard ones are known by `attr`). */
  role?: 'id' | 'lat' | 'lon';
}

export interface DatasetDef {
  /** Stable id, the file stem used in the wild (`aed`, `evacuation_space`…). */
  id: string;
  /** 定義書A number, and the legacy 推奨データセット number. */
  number: string;
  legacyNumber?: string;
  title: string;
  titleEn: string;
  entityType: string;
  columns: ColumnDef[];
}

const c = (
  name: string,
  attr: string,
  kind: ColumnKind = 'text',
  more: Partial<ColumnDef> = {},
): ColumnDef => ({
  name,
  attr,
  kind,
  ...more,
});

const HEAD: ColumnDef[] = [
  c('全国地方公共団体コード', 'localGovernmentCode', 'code6', {
    aliases: ['都道府県コード又は市区町村コード', '市区町村コード', '都道府県コードまたは市区町村コード'],
  }),
  c('ID', 'identifier', 'id', { aliases: ['NO', 'No', 'No.', '番号'] }),
  c('地方公共団体名', 'localGovernmentName', 'text', { aliases: ['市区町村名'] }),
];

const NAME = (required = true): ColumnDef[] => [
  c('名称', 'name', 'text', { required }),
  c('名称_カナ', 'nameKana', 'kana'),
  c('名称_英字', 'nameEn', 'text', { aliases: ['名称_英語', '名称(英字)'] }),
];

const ADDRESS: ColumnDef[] = [
  c('所在地_全国地方公共団体コード', 'locatedLocalGovernmentCode', 'code6'),
  c('町字ID', 'streetAddressId', 'text'),
  c('所在地_連結表記', 'fullAddress', 'text', { required: true, aliases: ['住所', '所在地'] }),
  c('所在地_都道府県', 'prefecture', 'text', { aliases: ['都道府県名'] }),
  c('所在地_市区町村', 'city', 'text'),
  c('所在地_町字', 'streetAddress', 'text'),
  c('所在地_番地以下', 'cityBlock', 'text'),
  c('建物名等(方書)', 'buildingNameEtc', 'text', { aliases: ['方書', '建物名等'] }),
  c('緯度', 'latitude', 'lat', { aliases: ['lat', 'latitude', 'Latitude', 'Y'] }),
  c('経度', 'longitude', 'lon', { aliases: ['lon', 'lng', 'longitude', 'Longitude', 'X'] }),
  c('高度の種別', 'heightType', 'text'),
  c('高度の値', 'height', 'number'),
];

const CONTACT: ColumnDef[] = [
  c('電話番号', 'contactPointPhoneNumber', 'phone', { aliases: ['連絡先電話番号'] }),
  c('内線番号', 'contactPointExtension', 'text', { aliases: ['連絡先内線番号'] }),
  c('FAX番号', 'contactPointFaxNumber', 'phone'),
  c('連絡先メールアドレス', 'contactPointEmail', 'text'),
  c('連絡先FormURL', 'contactPointFormUrl', 'url'),
  c('連絡先備考(その他、SNSなど)', 'contactPointRemarks', 'text'),
  c('郵便番号', 'contactPointPostalCode', 'text'),
];

const HOURS: ColumnDef[] = [
  c('利用可能曜日', 'availableDaysOfWeek', 'text'),
  c('開始時間', 'startTime', 'time'),
  c('終了時間', 'endTime', 'time'),
  c('利用可能日時特記事項', 'availabilityNotes', 'text'),
];

const TAIL: ColumnDef[] = [
  c('URL', 'url', 'url'),
  c('画像', 'pictureUrl', 'url'),
  c('画像_ライセンス', 'pictureLicense', 'text'),
  c('備考', 'remarks', 'text'),
];

const CORPORATE: ColumnDef[] = [
  c('法人番号', 'corporateNumber', 'corporate'),
  c('団体名', 'organizationName', 'text', { aliases: ['法人の名称'] }),
];

const HAZARDS: Array<[string, string]> = [
  ['災害種別_洪水', 'hazardFlood'],
  ['災害種別_崖崩れ、土石流及び地滑り', 'hazardLandslide'],
  ['災害種別_高潮', 'hazardStormSurge'],
  ['災害種別_地震', 'hazardEarthquake'],
  ['災害種別_津波', 'hazardTsunami'],
  ['災害種別_大規模な火事', 'hazardLargeFire'],
  ['災害種別_内水氾濫', 'hazardInlandFlood'],
  ['災害種別_火山現象', 'hazardVolcano'],
];

export const STANDARD_DATASETS: readonly DatasetDef[] = [
  {
    id: 'public_facility',
    number: '01',
    legacyNumber: '12',
    title: '公共施設一覧',
    titleEn: 'Public facilities',
    entityType: 'PublicFacility',
    columns: [
      ...HEAD,
      ...NAME(),
      c('名称_通称', 'alternateName'),
      c('POIコード', 'poiCode'),
      c('外部識別子', 'externalIdentifier'),
      ...ADDRESS,
      ...CONTACT,
      ...CORPORATE,
      ...HOURS,
      c('説明', 'description'),
      c('バリアフリー情報', 'barrierFreeInfo'),
      c('車椅子可', 'wheelchairAccessible', 'umu'),
      c('授乳室', 'nursingRoom', 'umu'),
      c('おむつ替えコーナー', 'diaperChangingArea', 'umu'),
      ...TAIL,
    ],
  },
  {
    id: 'cultural_property',
    number: '02',
    legacyNumber: '04',
    title: '文化財一覧',
    titleEn: 'Cultural properties',
    entityType: 'CulturalProperty',
    columns: [
      ...HEAD,
      ...NAME(),
      c('名称_通称', 'alternateName'),
      c('文化財分類', 'culturalPropertyClass', 'text', { required: true }),
      c('種類', 'category'),
      c('場所名称', 'placeName'),
      ...ADDRESS.map((col) => (col.attr === 'fullAddress' ? { ...col, required: false } : col)),
      c('員数(数)', 'quantity', 'number'),
      c('員数(単位)', 'quantityUnit'),
      c('所有者等', 'owner'),
      c('文化財指定日', 'designationDate', 'date'),
      ...CORPORATE,
      ...HOURS,
      c('概要', 'summary'),
      c('概要_英語', 'summaryEn'),
      c('説明', 'description'),
      c('説明_英語', 'descriptionEn'),
      ...TAIL,
    ],
  },
  {
    id: 'evacuation_space',
    number: '03',
    legacyNumber: '10',
    title: '指定緊急避難場所一覧',
    titleEn: 'Designated emergency evacuation sites',
    entityType: 'EvacuationSite',
    columns: [
      ...HEAD,
      ...NAME(),
      ...ADDRESS,
      c('標高', 'elevation', 'number'),
      ...CONTACT,
      ...HAZARDS.map(([name, attr]) => c(name, attr, 'flag')),
      c('指定避難所との重複', 'alsoDesignatedShelter', 'flag'),
      c('想定収容人数', 'maxCapacity', 'number'),
      c('対象となる町会・自治会', 'targetCommunities', 'list'),
      ...TAIL,
    ],
  },
  {
    id: 'designated_shelter',
    number: 'GSI',
    title: '指定避難所一覧',
    titleEn: 'Designated shelters',
    entityType: 'DesignatedShelter',
    columns: [
      ...HEAD,
      ...NAME(),
      ...ADDRESS,
      ...CONTACT,
      c('想定収容人数', 'maxCapacity', 'number', { aliases: ['収容人数'] }),
      c('指定緊急避難場所との重複', 'alsoEvacuationSite', 'flag'),
      c('福祉避難所', 'welfareShelter', 'flag', { aliases: ['福祉避難所として指定'] }),
      c('対象となる町会・自治会', 'targetCommunities', 'list'),
      ...TAIL,
    ],
  },
  {
    id: 'preschool',
    number: '05',
    legacyNumber: '13',
    title: '子育て施設一覧',
    titleEn: 'Childcare facilities',
    entityType: 'ChildcareFacility',
    columns: [
      ...HEAD,
      ...NAME(),
      c('種別', 'category'),
      ...ADDRESS,
      c('アクセス方法', 'accessInfo'),
      c('駐車場情報', 'parkingInfo'),
      ...CONTACT,
      ...CORPORATE,
      c('認可等年月日', 'authorizationDate', 'date'),
      c('収容定員', 'capacity', 'number'),
      c('受入年齢', 'acceptedAges'),
      ...HOURS,
      c('一時預かりの有無', 'temporaryCare', 'umu'),
      c('病児保育の有無', 'sickChildCare', 'umu'),
      ...TAIL,
    ],
  },
  {
    id: 'public_wireless_lan',
    number: '07',
    legacyNumber: '07',
    title: '公衆無線LANアクセスポイント一覧',
    titleEn: 'Public Wi-Fi access points',
    entityType: 'PublicWirelessLan',
    columns: [
      ...HEAD,
      ...NAME(),
      ...ADDRESS,
      c('設置者', 'installer'),
      ...CONTACT,
      c('SSID', 'ssid'),
      c('提供エリア', 'coverageArea'),
      ...TAIL,
    ],
  },
  {
    id: 'aed',
    number: '08',
    legacyNumber: '01',
    title: 'AED設置箇所一覧',
    titleEn: 'AED locations',
    entityType: 'AED',
    columns: [
      ...HEAD,
      ...NAME(),
      ...ADDRESS,
      c('設置位置', 'installationPosition', 'text', { required: true }),
      ...CONTACT,
      ...CORPORATE,
      ...HOURS,
      c('小児対応設備の有無', 'pediatricSupport', 'umu'),
      c('画像1', 'picture1Url', 'url'),
      c('画像1_ライセンス', 'picture1License'),
      c('画像2', 'picture2Url', 'url'),
      c('画像2_ライセンス', 'picture2License'),
      c('外部利用不可', 'externalUseRestricted', 'flag'),
      ...TAIL,
    ],
  },
  {
    id: 'care_service',
    number: '09',
    legacyNumber: '02',
    title: '介護サービス事業所一覧',
    titleEn: 'Long-term care providers',
    entityType: 'CareServiceProvider',
    columns: [
      ...HEAD,
      c('介護サービス事業所名称', 'name', 'text', { required: true }),
      c('介護サービス事業所名称_カナ', 'nameKana', 'kana'),
      c('介護サービス事業所名称_英字', 'nameEn'),
      c('実施サービス', 'services', 'text', { required: true }),
      ...ADDRESS,
      ...CONTACT,
      c('法人番号', 'corporateNumber', 'corporate'),
      c('法人の名称', 'corporationName'),
      c('事業所番号', 'providerNumber'),
      c('利用可能曜日', 'availableDaysOfWeek'),
      c('利用可能曜日特記事項', 'availabilityNotes'),
      c('定員', 'capacity', 'number'),
      ...TAIL,
    ],
  },
  {
    id: 'hospital',
    number: '10',
    legacyNumber: '03',
    title: '医療機関一覧',
    titleEn: 'Medical institutions',
    entityType: 'MedicalInstitution',
    columns: [
      ...HEAD,
      ...NAME(),
      c('医療機関の種類', 'institutionType', 'text', { required: true }),
      ...ADDRESS,
      ...CONTACT,
      c('法人番号', 'corporateNumber', 'corporate'),
      c('法人の名称', 'corporationName'),
      c('医療機関コード', 'medicalInstitutionCode'),
      c('診療曜日', 'consultationDays'),
      c('診療開始時間', 'consultationStartTime', 'time'),
      c('診療終了時間', 'consultationEndTime', 'time'),
      c('診療日時特記事項', 'consultationNotes'),
      c('時間外における対応', 'afterHoursService'),
      c('診療科目', 'departments', 'list'),
      c('病床数', 'bedCount', 'number'),
      ...TAIL,
    ],
  },
  {
    id: 'tourism',
    number: '11',
    legacyNumber: '05',
    title: '観光施設一覧',
    titleEn: 'Tourist facilities',
    entityType: 'TouristFacility',
    columns: [
      ...HEAD,
      ...NAME(),
      c('POIコード', 'poiCode'),
      ...ADDRESS,
      ...CONTACT,
      ...HOURS,
      c('料金(基本)', 'feeBasic', 'number'),
      c('料金(詳細)', 'feeDetails'),
      c('説明', 'description', 'text', { required: true }),
      c('説明_英語', 'descriptionEn'),
      c('アクセス方法', 'accessInfo'),
      c('駐車場情報', 'parkingInfo'),
      c('バリアフリー情報', 'barrierFreeInfo'),
      c('連絡先名称', 'contactPointName'),
      ...TAIL,
    ],
  },
  {
    id: 'event',
    number: '12',
    legacyNumber: '06',
    title: 'イベント一覧',
    titleEn: 'Events',
    entityType: 'Event',
    columns: [
      ...HEAD,
      c('イベント名', 'name', 'text', { required: true, aliases: ['event_name', '名称'] }),
      c('イベント名_カナ', 'nameKana', 'kana', { aliases: ['名称_カナ'] }),
      c('イベント名_英字', 'nameEn', 'text', { aliases: ['イベント名_英語'] }),
      c('開始日', 'startDate', 'date', { required: true, aliases: ['start_date'] }),
      c('終了日', 'endDate', 'date', { aliases: ['end_date'] }),
      c('開始時間', 'startTime', 'time', { aliases: ['start_time'] }),
      c('終了時間', 'endTime', 'time', { aliases: ['end_time'] }),
      c('開始日時特記事項', 'scheduleNotes'),
      c('説明', 'description', 'text', { aliases: ['description'] }),
      c('料金(基本)', 'feeBasic', 'number'),
      c('料金(詳細)', 'feeDetails'),
      c('連絡先名称', 'contactPointName'),
      c('主催者', 'organizer'),
      c('場所名称', 'placeName', 'text', { aliases: ['location_name'] }),
      ...ADDRESS.map((col) => (col.attr === 'fullAddress' ? { ...col, required: false } : col)),
      ...CONTACT,
      c('アクセス方法', 'accessInfo'),
      c('駐車場情報', 'parkingInfo'),
      c('定員', 'capacity', 'number'),
      c('参加申込終了日', 'applicationEndDate', 'date'),
      c('参加申込終了時間', 'applicationEndTime', 'time'),
      c('参加申込方法', 'applicationMethod'),
      ...TAIL,
    ],
  },
];

export function findDataset(id: string): DatasetDef | undefined {
  return STANDARD_DATASETS.find((d) => d.id === id);
}

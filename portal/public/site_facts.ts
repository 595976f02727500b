/**
 * What the public pages derive from the points directory: the municipalities taking part, what a
 * shop accepts, which campaigns apply to it, and a campaign described in words.
 */
import type { Directory, DirectoryCampaign, DirectoryCurrency } from '../../points/index.ts';
import type { Municipality, PublicSiteSettings } from './settings.ts';

const listedFor = new WeakMap<Directory, Municipality[]>();

/** The configured municipalities in their order, then any other municipality a currency or merchant names. */
export function municipalities(settings: PublicSiteSettings, directory: Directory): Municipality[] {
  const known = listedFor.get(directory);
  if (known) return known;
  const listed = listMunicipalities(settings, directory);
  listedFor.set(directory, listed);
  return listed;
}

function listMunicipalities(settings: PublicSiteSettings, directory: Directory): Municipality[] {
  const listed = [...settings.municipalities];
  const known = new Set(listed.map((m) => m.code));
  for (const c of [...directory.currencies, ...directory.merchants]) {
    if (known.has(c.municipality)) continue;
    known.add(c.municipality);
    listed.push({ code: c.municipality, ja: c.municipality, en: c.municipality });
  }
  return listed;
}

export function municipalityName(settings: PublicSiteSettings, code: string): Municipality {
  return settings.municipalities.find((m) => m.code === code) ?? { code, ja: code, en: code };
}

/** A merchant accepts every currency of its municipality, and every point type of those. */
export function acceptedBy(directory: Directory, municipality: string): DirectoryCurrency[] {
  return directory.currencies.filter((c) => c.municipality === municipality);
}

export function isRunning(c: DirectoryCampaign, at: Date): boolean {
  return new Date(c.startsAt) <= at && (c.endsAt === null || at < new Date(c.endsAt));
}

/** Campaigns that reward a payment at this shop: its own, and the city's ones for every shop. */
export function campaignsFor(
  directory: Directory,
  merchantId: string,
  municipality: string,
): DirectoryCampaign[] {
  const currencies = new Set(acceptedBy(directory, municipality).map((c) => c.code));
  return directory.campaigns.filter(
    (c) =>
      currencies.has(c.currency) &&
      (c.merchant === merchantId || (c.merchant === null && c.kind === 'limited')),
  );
}

function percent(rateBp: number): string {
  return `${(rateBp / 100).toLocaleString('ja-JP', { maximumFractionDigits: 2 })}%`;
}

/** "10% 還元（1回 500 ポイントまで）" and its English. */
export function describeCampaign(c: DirectoryCampaign): { ja: string; en: string } {
  const capsJa: string[] = [];
  const capsEn: string[] = [];
  if (c.perTxnCap !== null) {
    capsJa.push(`1回 ${c.perTxnCap.toLocaleString('ja-JP')} ポイントまで`);
    capsEn.push(`up to ${c.perTxnCap.toLocaleString('en')} points per payment`);
  }
  if (c.perResidentCap !== null) {
    const per = c.kind === 'limited' ? '期間中' : '月';
    capsJa.push(`1人${per} ${c.perResidentCap.toLocaleString('ja-JP')} ポイントまで`);
    capsEn.push(
      `up to ${c.perResidentCap.toLocaleString('en')} points per person${c.kind === 'limited' ? '' : ' a month'}`,
    );
  }
  return {
    ja: `お支払いの ${percent(c.rateBp)} をポイント還元${capsJa.length ? `（${capsJa.join('、')}）` : ''}`,
    en: `${percent(c.rateBp)} back in points${capsEn.length ? ` (${capsEn.join(', ')})` : ''}`,
  };
}

export function currencyName(directory: Directory, code: string): string {
  return directory.currencies.find((c) => c.code === code)?.name ?? code;
}

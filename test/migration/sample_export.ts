/**
 * A sample export of a previous point system (like Saijo's pilot: members, their point balances
 * by type with expiry, and point history), generated deterministically, with the totals the test
 * expects computed here — independently of the importer.
 */
import iconv from 'iconv-lite';

export interface SampleExport {
  /** Shift_JIS, Japanese headers, as the pilot's member list. */
  users: Buffer;
  balances: Buffer;
  history: Buffer;
  /** JSON from a facility system, with its own field names (see `visitMapping`). */
  visits: Buffer;
  visitMapping: Record<string, string>;
  memberIds: string[];
  /** Expected per point type: lots and totals that are not yet expired at `now`. */
  expected: Record<string, { rows: number; total: number; expiredRows: number; expiredTotal: number }>;
  /** Expected balance per member id. */
  balanceOf: Map<string, number>;
  historyRows: number;
  historyTotal: Record<string, { rows: number; total: number }>;
  visitRows: number;
}

/** A small linear congruential generator, so the sample is the same on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

const SURNAMES = ['西条', '石鎚', '丹原', '東予', '小松', '氷見', '加茂', '大保木'];
const GIVEN = ['太郎', '花子', '次郎', '美咲', '健一', '由美', '翔', '陽菜'];
const CATEGORIES = ['在住', '在勤', '在学', '来訪'];

export function sampleExport(options: { members: number; now: Date }): SampleExport {
  const rnd = random(42);
  const pick = <T>(items: T[]) => items[Math.floor(rnd() * items.length)]!;
  const memberIds = Array.from({ length: options.members }, (_, i) => `M${String(i + 1).padStart(4, '0')}`);

  const users = [
    '会員番号,メールアドレス,氏名,生年月日,郵便番号,区分',
    ...memberIds.map((id, i) => {
      const year = 1950 + Math.floor(rnd() * 55);
      const month = 1 + Math.floor(rnd() * 12);
      const day = 1 + Math.floor(rnd() * 28);
      return [
        id,
        `member${i + 1}@pilot.example.jp`,
        `${pick(SURNAMES)} ${pick(GIVEN)}`,
        `${year}/${String(month).padStart(2, '0')}/${String(day).padStart(2, '0')}`,
        `793-${String(Math.floor(rnd() * 10000)).padStart(4, '0')}`,
        pick(CATEGORIES),
      ].join(',');
    }),
  ].join('\r\n');

  const expected: SampleExport['expected'] = {
    shop: { rows: 0, total: 0, expiredRows: 0, expiredTotal: 0 },
    health: { rows: 0, total: 0, expiredRows: 0, expiredTotal: 0 },
  };
  const balanceOf = new Map<string, number>();
  const balanceLines = ['id,user_id,currency,point_type,amount,expires_at'];
  let lot = 0;
  for (const id of memberIds) {
    const lots = 1 + Math.floor(rnd() * 4);
    for (let i = 0; i < lots; i += 1) {
      lot += 1;
      const type = rnd() < 0.6 ? 'shop' : 'health';
      const amount = 10 + Math.floor(rnd() * 990);
      // Mostly future expiries (some as plain days), a few already past, some with none (health).
      const offsetDays = lot % 37 === 0 ? -10 : 30 + Math.floor(rnd() * 300);
      const expiry = new Date(options.now.getTime() + offsetDays * 86_400_000);
      const expires =
        type === 'health' && lot % 3 === 0
          ? ''
          : lot % 2 === 0
            ? expiry.toISOString().slice(0, 10)
            : expiry.toISOString();
      balanceLines.push(`L${lot},${id},saijo-pt,${type},${amount},${expires}`);
      const e = expected[type]!;
      if (offsetDays < 0 && expires !== '') {
        e.expiredRows += 1;
        e.expiredTotal += amount;
      } else {
        e.rows += 1;
        e.total += amount;
        balanceOf.set(id, (balanceOf.get(id) ?? 0) + amount);
      }
    }
  }

  const historyTotal: SampleExport['historyTotal'] = {};
  const historyLines = ['user_id,currency,occurred_at,kind,amount,point_type,description'];
  let historyRows = 0;
  for (const id of memberIds) {
    const n = 3 + Math.floor(rnd() * 10);
    for (let i = 0; i < n; i += 1) {
      const earn = rnd() < 0.7;
      const type = rnd() < 0.6 ? 'shop' : 'health';
      const amount = (earn ? 1 : -1) * (5 + Math.floor(rnd() * 300));
      const day = new Date(Date.UTC(2025, 3, 1) + Math.floor(rnd() * 500) * 86_400_000);
      historyLines.push(
        `${id},saijo-pt,${day.toISOString().slice(0, 10)} ${String(9 + (i % 9)).padStart(2, '0')}:15,${earn ? 'earn' : 'use'},${amount},${type},"${earn ? 'ウォーキング, 歩数達成' : '加盟店で利用'}"`,
      );
      historyRows += 1;
      const h = (historyTotal[type] ??= { rows: 0, total: 0 });
      h.rows += 1;
      h.total += amount;
    }
  }

  const visits = memberIds.slice(0, 10).flatMap((id, i) =>
    Array.from({ length: 1 + (i % 3) }, (_, j) => ({
      会員番号: id,
      来館日時: `2026-11-${String(10 + j).padStart(2, '0')}T10:0${j}:00+09:00`,
      施設名: j % 2 === 0 ? '西条市総合文化会館' : '石鎚ふれあいの里',
      種別: 'entry',
    })),
  );

  return {
    users: iconv.encode(users, 'cp932'),
    balances: Buffer.from(balanceLines.join('\n'), 'utf8'),
    history: Buffer.from(`\uFEFF${historyLines.join('\r\n')}`, 'utf8'),
    visits: Buffer.from(JSON.stringify(visits), 'utf8'),
    visitMapping: { user_id: '会員番号', visited_at: '来館日時', place: '施設名', kind: '種別' },
    memberIds,
    expected,
    balanceOf,
    historyRows,
    historyTotal,
    visitRows: visits.length,
  };
}

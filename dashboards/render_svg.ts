/**
 * Server-side SVG charts (bar and line) for the operator page and published charts: no client
 * library, no CDN. The SVG scales to the screen width, names itself for screen readers and is
 * always paired with a data table on the page. Suppressed values (null) draw no mark.
 */
export interface Series {
  name: string;
  values: Array<number | null>;
}

export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

// Colour-blind-safe pair with at least 3:1 contrast on white (WCAG 1.4.11).
export const COLOURS = ['#1f5fa8', '#b5520b', '#2e7d32', '#6a3d9a'];
const W = 640;
const H = 280;
const M = { top: 16, right: 12, bottom: 48, left: 64 };

function niceMax(max: number): number {
  if (max <= 0) return 1;
  const step = 10 ** Math.floor(Math.log10(max));
  return Math.ceil(max / step) * step;
}

export function formatNumber(n: number): string {
  return new Intl.NumberFormat('ja-JP', { maximumFractionDigits: 2 }).format(n);
}

export function chartSvg(input: {
  title: string;
  labels: string[];
  series: Series[];
  kind: 'bar' | 'line' | 'area';
}): string {
  const { labels, series } = input;
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values.filter((v): v is number => v !== null))));
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const band = labels.length > 0 ? plotW / labels.length : plotW;
  const y = (v: number) => M.top + plotH - (v / max) * plotH;
  const parts: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = (max / 4) * i;
    parts.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${y(v)}" y2="${y(v)}" stroke="#d0d0d0"/>`,
      `<text x="${M.left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${formatNumber(v)}</text>`,
    );
  }
  const every = Math.max(1, Math.ceil(labels.length / 8));
  labels.forEach((label, i) => {
    if (i % every !== 0) return;
    const x = M.left + band * (i + 0.5);
    parts.push(
      `<text x="${x}" y="${H - M.bottom + 16}" text-anchor="middle" font-size="11">${escapeHtml(label)}</text>`,
    );
  });
  series.forEach((s, si) => {
    const colour = COLOURS[si % COLOURS.length];
    if (input.kind === 'bar') {
      const bw = (band * 0.8) / series.length;
      s.values.forEach((v, i) => {
        if (v === null) return;
        const x = M.left + band * i + band * 0.1 + bw * si;
        parts.push(
          `<rect class="mark" x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${bw.toFixed(1)}" height="${(M.top + plotH - y(v)).toFixed(1)}" fill="${colour}"><title>${escapeHtml(`${labels[i]} ${s.name}: ${formatNumber(v)}`)}</title></rect>`,
        );
      });
    } else {
      const points = s.values
        .map((v, i) => (v === null ? null : `${(M.left + band * (i + 0.5)).toFixed(1)},${y(v).toFixed(1)}`))
        .filter((p) => p !== null);
      parts.push(
        `<polyline class="mark" fill="none" stroke="${colour}" stroke-width="2" points="${points.join(' ')}"/>`,
      );
      if (input.kind === 'area' && points.length > 1) {
        const first = points[0]!.split(',')[0];
        const last = points[points.length - 1]!.split(',')[0];
        const base = (M.top + plotH).toFixed(1);
        parts.push(
          `<polygon fill="${colour}" fill-opacity="0.25" points="${first},${base} ${points.join(' ')} ${last},${base}"/>`,
        );
      }
    }
  });
  series.forEach((s, si) => {
    const x = M.left + si * 150;
    parts.push(
      `<rect x="${x}" y="${H - 18}" width="12" height="12" fill="${COLOURS[si % COLOURS.length]}"/>`,
      `<text x="${x + 16}" y="${H - 8}" font-size="12">${escapeHtml(s.name)}</text>`,
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${escapeHtml(input.title)}"><title>${escapeHtml(input.title)}</title>${parts.join('')}</svg>`;
}

/**
 * How an access-log entry reads for people: service names from the mediation registry, item
 * labels from the consent module, purpose labels from the service's registration, the decision
 * in words. Shared by the resident's page and the staff page.
 */
import type { ConsentServices } from '../../consent/index.ts';
import type { AccessView, MediationServices, RegisteredService } from '../../mediation/index.ts';
import { bi, escapeHtml, time } from '../shared/html.ts';

export interface Labels {
  service(id: string): string;
  items(codes: readonly string[]): string;
  purpose(service: string, code: string): string;
}

export async function loadLabels(
  mediation: MediationServices,
  consent: ConsentServices | undefined,
): Promise<Labels> {
  const services = new Map<string, RegisteredService>(
    (await mediation.registry.list()).map((s) => [s.service, s]),
  );
  const items = (consent?.dataItems ?? {}) as Record<string, { ja: string; en: string }>;
  return {
    service: (id) => services.get(id)?.name ?? id,
    items: (codes) =>
      codes
        .map((c) => (items[c] ? bi(items[c].ja, items[c].en) : escapeHtml(c)))
        .join('<span aria-hidden="true">、</span> '),
    purpose: (service, code) => {
      const p = services.get(service)?.purposes.find((x) => x.code === code);
      return p
        ? `${escapeHtml(p.label)} <span class="meta">(${escapeHtml(code)})</span>`
        : escapeHtml(code || '—');
    },
  };
}

const DECISION: Record<string, [string, string]> = {
  allow: ['提供しました', 'Provided'],
  partial: ['一部を提供しました', 'Partly provided'],
  deny: ['提供していません', 'Not provided'],
};
const KIND: Record<string, [string, string]> = {
  read: ['照会', 'Request'],
  'flow-send': ['サービス間の受け渡し', 'Passed between services'],
  'flow-receive': ['受け取り', 'Received'],
};

export function decisionText(decision: string): string {
  const [ja, en] = DECISION[decision] ?? [decision, decision];
  return bi(ja, en);
}

/** One entry as a definition list (one column on a phone, readable by screen readers). */
export function entryHtml(e: AccessView, labels: Labels): string {
  const [kja, ken] = KIND[e.kind] ?? [e.kind, e.kind];
  const allowed = e.consents.filter((c) => c.decision === 'allow').map((c) => c.item);
  return `<li class="access" data-seq="${e.seq}">
<p class="when">${time(e.at)} — ${bi(kja, ken)}</p>
<dl>
<dt>${bi('アクセスしたサービス', 'Service')}</dt><dd>${escapeHtml(labels.service(e.service))}${
    e.source ? ` ← ${escapeHtml(labels.service(e.source))}` : ''
  }</dd>
<dt>${bi('求められた項目', 'Items asked for')}</dt><dd>${labels.items(e.items)}</dd>
<dt>${bi('目的', 'Purpose')}</dt><dd>${labels.purpose(e.service, e.purpose)}</dd>
<dt>${bi('結果', 'Result')}</dt><dd class="decision-${escapeHtml(e.decision)}">${decisionText(e.decision)}${
    allowed.length > 0 && e.decision === 'partial' ? `：${labels.items(allowed)}` : ''
  }</dd>
</dl>
</li>`;
}

export const ACCESS_STYLE = `<style>
  ol.accesses { list-style: none; padding: 0; margin: 0; display: grid; gap: .75rem; }
  li.access { background: #fff; border: 1px solid #d1d5db; border-radius: .5rem; padding: .75rem 1rem; }
  li.access .when { margin: 0 0 .25rem; font-weight: 600; }
  li.access dl { display: grid; grid-template-columns: minmax(7rem, auto) 1fr; gap: .125rem .75rem; margin: 0; }
  li.access dt { font-weight: 600; }
  li.access dd { margin: 0; }
  .meta { color: #374151; font-size: .875rem; }
  .downloads a { display: inline-flex; align-items: center; min-height: 44px; margin-right: 1rem; }
  .decision-deny { color: #7a1d1d; }
  @media (max-width: 30rem) { li.access dl { grid-template-columns: 1fr; } li.access dd { margin-bottom: .25rem; } }
</style>`;

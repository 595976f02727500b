/**
 * Onboarding partner services for data mediation from the admin console (連携サービスの登録), with
 * no code change: the items each service may request, its purposes (with an optional period during
 * which entries stay out of the resident's history), and the data flows it may send. Every change
 * goes through the mediation registry, which validates and audits it.
 *
 *   GET  {base}                    the registered services and the form to add one
 *   POST {base}                    register (form token)
 *   POST {base}/:service/disable   stop serving it; /enable serves it again
 */
import express, { type Request, type Router } from 'express';
import type { ConsentServices } from '../../consent/index.ts';
import { ProblemError } from '../../core/index.ts';
import type { FlowRule, MediationServices, Purpose } from '../../mediation/index.ts';
import { csrfField, errorLine, sendAdminPage, staffMember, statusLine } from '../admin/layout.ts';
import { bi, escapeHtml } from '../shared/html.ts';
import type { PortalContext } from '../shared/section.ts';

/** One purpose per line: `code=label` or `code=label:days`. */
function parsePurposes(text: string): Purpose[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const [code = '', rest = ''] = line.split(/=(.*)/s);
      const m = /^(.*?)(?::(\d+))?$/s.exec(rest)!;
      return {
        code: code.trim(),
        label: (m[1] ?? '').trim() || code.trim(),
        ...(m[2] ? { suppressDays: Number(m[2]) } : {}),
      };
    });
}

/** One flow per line: `recipient-client-id:item,item:purpose,purpose`. */
function parseFlows(text: string): FlowRule[] {
  const list = (s: string | undefined) =>
    (s ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const [to = '', items, purposes] = line.split(':');
      return { to: to.trim(), items: list(items), purposes: list(purposes) };
    });
}

const field = (body: Record<string, unknown>, name: string) =>
  typeof body[name] === 'string' ? (body[name] as string) : '';

export function servicePages(portal: PortalContext, base: string): Router {
  const router = express.Router();
  const mediation = () => portal.ctx.services['mediation'] as MediationServices;
  const items = () =>
    Object.entries(
      ((portal.ctx.services['consent'] as ConsentServices | undefined)?.dataItems ?? {}) as Record<
        string,
        { ja: string; en: string }
      >,
    );
  router.use(portal.requireStaff('mediation-services'));

  const render = async (
    req: Request,
    res: express.Response,
    error?: string,
    form: Record<string, unknown> = {},
  ) => {
    const services = await mediation().registry.list();
    const done = req.query['done'];
    const chosen = new Set(
      Array.isArray(form['items'])
        ? (form['items'] as string[])
        : form['items']
          ? [String(form['items'])]
          : [],
    );
    const rows = services
      .map(
        (s) => `<tr id="service-${escapeHtml(s.service)}">
<td>${escapeHtml(s.name)}<br><code>${escapeHtml(s.service)}</code></td>
<td>${escapeHtml(s.items.join(', '))}</td>
<td>${s.purposes.map((p) => `${escapeHtml(p.label)} <code>${escapeHtml(p.code)}</code>${p.suppressDays ? ` (${p.suppressDays}日)` : ''}`).join('<br>')}</td>
<td>${s.flows.map((f) => `→ <code>${escapeHtml(f.to)}</code>: ${escapeHtml(f.items.join(', '))}`).join('<br>') || '—'}</td>
<td>${s.state === 'active' ? bi('提供中', 'Active') : bi('停止中', 'Disabled')}
<form method="post" action="${escapeHtml(base)}/${encodeURIComponent(s.service)}/${s.state === 'active' ? 'disable' : 'enable'}">${csrfField(res)}
<button type="submit">${s.state === 'active' ? bi('停止する', 'Disable') : bi('再開する', 'Enable')}</button></form></td>
</tr>`,
      )
      .join('\n');
    sendAdminPage(req, res, {
      title: '連携サービスの登録',
      titleEn: 'Data mediation: partner services',
      status: error ? 422 : 200,
      body: `${done === 'added' ? statusLine('登録しました。', 'The service is registered.') : ''}${done === 'changed' ? statusLine('変更しました。', 'Changed.') : ''}${error ? errorLine(`登録できませんでした：${error}`, `Not registered: ${error}`) : ''}
<div class="table-wrap"><table>
<caption>${bi('登録済みのサービス', 'Registered services')}</caption>
<thead><tr><th scope="col">${bi('サービス', 'Service')}</th><th scope="col">${bi('項目', 'Items')}</th><th scope="col">${bi('目的', 'Purposes')}</th><th scope="col">${bi('データフロー', 'Data flows')}</th><th scope="col">${bi('状態', 'State')}</th></tr></thead>
<tbody id="services">${rows}</tbody>
</table></div>
<h2>${bi('サービスを登録する', 'Register a service')}</h2>
<form method="post" action="${escapeHtml(base)}">${csrfField(res)}
<label for="service">${bi('クライアントID', 'Client id')}</label>
<p class="hint" id="service-hint">${bi('IDプロバイダに登録済みの連携サービスのクライアントID', 'The partner client id registered at the identity provider')}</p>
<input id="service" name="service" required aria-describedby="service-hint" value="${escapeHtml(field(form, 'service'))}">
<label for="name">${bi('サービス名', 'Service name')}</label>
<input id="name" name="name" required value="${escapeHtml(field(form, 'name'))}">
<fieldset><legend>${bi('求めてよい項目', 'Items it may request')}</legend>
${items()
  .map(
    ([code, l]) =>
      `<div class="choice"><input type="checkbox" id="item-${code}" name="items" value="${code}"${chosen.has(code) ? ' checked' : ''}><label for="item-${code}">${bi(l.ja, l.en)}</label></div>`,
  )
  .join('\n')}
</fieldset>
<label for="purposes">${bi('目的（1行に1つ：コード=説明、保留日数は :日数）', 'Purposes (one per line: code=label, hold-back days as :days)')}</label>
<textarea id="purposes" name="purposes" required>${escapeHtml(field(form, 'purposes'))}</textarea>
<label for="flows">${bi('データフロー（1行に1つ：受け手のクライアントID:項目,項目:目的）', 'Data flows (one per line: recipient:item,item:purpose)')}</label>
<textarea id="flows" name="flows">${escapeHtml(field(form, 'flows'))}</textarea>
<div class="actions"><button type="submit" id="register">${bi('登録する', 'Register')}</button></div>
</form>`,
    });
  };

  router.get('/', async (req, res) => {
    await render(req, res);
  });

  router.post('/', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const chosen = Array.isArray(body['items'])
      ? (body['items'] as string[])
      : body['items']
        ? [String(body['items'])]
        : [];
    try {
      await mediation().registry.add(
        {
          service: field(body, 'service').trim(),
          name: field(body, 'name').trim(),
          items: chosen,
          purposes: parsePurposes(field(body, 'purposes')),
          flows: parseFlows(field(body, 'flows')),
        },
        `staff:${staffMember(res).staffId}`,
      );
    } catch (error) {
      if (error instanceof ProblemError && error.status < 500)
        return render(req, res, error.detail ?? error.title, body);
      throw error;
    }
    res.redirect(303, `${base}?done=added`);
  });

  for (const action of ['disable', 'enable'] as const) {
    router.post(`/:service/${action}`, async (req, res) => {
      await mediation().registry.setState(
        String(req.params['service']),
        action === 'enable' ? 'active' : 'disabled',
        `staff:${staffMember(res).staffId}`,
      );
      res.redirect(303, `${base}?done=changed`);
    });
  }
  return router;
}

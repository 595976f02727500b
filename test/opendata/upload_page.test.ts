import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { send } from '../support/http.ts';
import { startTestPlatform, staticTokens, type TestPlatform } from '../support/platform.ts';
import { LEGACY_AED, sjis } from './fixtures.ts';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Serious or critical WCAG violations axe-core finds on the page as it is now. */
async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE);
  const result = (await page.evaluate(
    'axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"], resultTypes: ["violations"] })',
  )) as { violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> };
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

describe('open data upload page in a browser', () => {
  let t: TestPlatform;
  let browser: Browser;
  let dir: string;
  before(async () => {
    t = await startTestPlatform({
      tokenVerifier: staticTokens({ staff: { clientId: 'staff-1', scopes: ['opendata:admin'] } }),
    });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    dir = mkdtempSync(path.join(os.tmpdir(), 'opendata-page-'));
  });
  after(async () => {
    await browser.close();
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('upload → progress → report and preview → confirm → entities visible through /v2/entities (phone size)', async () => {
    const file = path.join(dir, '092011_aed.csv');
    writeFileSync(file, sjis(LEGACY_AED));
    // bypassCSP only lets the test inject axe-core; the page itself runs under the platform's CSP.
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, bypassCSP: true });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico'))
        errors.push(`${m.text()} ${m.location().url}`);
    });
    await page.goto(`${t.url}/admin/opendata`);
    assert.equal(await page.getAttribute('html', 'lang'), 'ja');
    assert.equal(await page.title(), 'オープンデータ登録 / Open data upload — Tsunagu');
    assert.deepEqual(await axeViolations(page), []);

    await page.getByLabel('アクセストークン').fill('staff');
    await page.getByLabel('CSVファイル（200MBまで）').setInputFiles(file);
    await page.getByRole('button', { name: /アップロードして検証/ }).click();
    await page.getByText('検証が終わりました').waitFor();
    assert.equal(
      await page.locator('#progress').evaluate((p) => (p as unknown as { value: number }).value),
      100,
    );

    // biome-ignore lint/performance/useDomNodeTextContent: the rendered line breaks between dt and dd are asserted.
    const summary = await page.locator('#summary').innerText();
    assert.match(summary, /shift_jis/);
    assert.match(summary, /AED設置箇所一覧 \(aed, 一致度 score 1\)/);
    assert.match(summary, /登録できる行 \/ Valid rows\n3/);
    const issueRows = await page.locator('#issues tbody tr').allInnerTexts();
    assert.ok(
      issueRows.some((r) => r.startsWith('8行目\t名称\tエラー / error\t必須項目が空です')),
      issueRows.join('\n'),
    );
    assert.ok(issueRows.some((r) => r.includes('(028)632-2222 → 028-632-2222')));
    assert.equal(await page.locator('#preview td.changed').first().textContent(), '028-632-2222');
    assert.equal(await page.locator('#map circle').count(), 3);
    assert.match(
      (await page.locator('#suggestions').textContent()) ?? '',
      /見出し行を3行目と判定し、1・2行目を読み飛ばしました/,
    );
    assert.deepEqual(await send(`${t.url}/v2/entities?type=AED`).then((r) => r.body), []);
    assert.deepEqual(await axeViolations(page), [], 'report, preview and confirmation form');
    await page.getByText('新規 3件・変更 0件・変更なし 0件・今回のファイルにない 0件').waitFor();

    await page.getByLabel('タイトル').fill('宇都宮市AED');
    await page.getByRole('button', { name: /確認して登録/ }).click();
    await page.getByText('3件を登録しました').waitFor();

    const listed = await send(`${t.url}/v2/entities?type=AED&attrs=name&options=keyValues`);
    assert.deepEqual(listed.body, [
      { id: 'urn:ngsi-ld:AED:092011:1', type: 'AED', name: '宇都宮市役所' },
      { id: 'urn:ngsi-ld:AED:092011:2', type: 'AED', name: '髙松公民館' },
      { id: 'urn:ngsi-ld:AED:092011:3', type: 'AED', name: '中央生涯学習センター' },
    ]);
    const width = await page.evaluate<number>('document.documentElement.scrollWidth');
    assert.ok(width <= 390, `page scrolls horizontally on a phone (${width}px)`);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('offers a stray leading _id column as a choice and validates again without it', async () => {
    const file = path.join(dir, 'ckan_dump.csv');
    writeFileSync(
      file,
      '_id,全国地方公共団体コード,ID,名称,所在地_連結表記,設置位置,緯度,経度\n1,131016,A1,千代田区役所,東京都千代田区九段南1-2-1,1階,35.6940,139.7536\n',
    );
    const page = await browser.newPage();
    await page.goto(`${t.url}/admin/opendata`);
    await page.getByLabel('アクセストークン').fill('staff');
    await page.getByLabel('CSVファイル（200MBまで）').setInputFiles(file);
    await page.getByRole('button', { name: /アップロードして検証/ }).click();
    await page.getByText('検証が終わりました').waitFor();
    assert.ok((await page.locator('#issues tbody').textContent())?.includes('標準にない列です'));
    await page.getByRole('button', { name: /「_id」列を除外して再検証/ }).click();
    await page.getByText('再検証しました。').waitFor();
    const issues = await page.locator('#issues tbody tr').allTextContents();
    assert.deepEqual(issues, ['1行目_id情報 / info指定により列を除外しました / Column dropped as requested']);
    assert.equal(await page.locator('#dropColumns').inputValue(), '_id');
    await page.close();
  });

  it('maps the columns of a file no standard covers in the mapping editor, then registers it', async () => {
    const file = path.join(dir, 'bicycle.csv');
    writeFileSync(
      file,
      '管理番号,駐輪場名,所在地,収容台数,北緯,東経\nP7,西口駐輪場,東京都千代田区丸の内1-9,300,35.6815,139.7650\n',
    );
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(`${t.url}/admin/opendata`);
    await page.getByLabel('アクセストークン').fill('staff');
    await page.getByLabel('CSVファイル（200MBまで）').setInputFiles(file);
    await page.getByLabel(/全国地方公共団体コード/).fill('131016');
    await page.getByRole('button', { name: /アップロードして検証/ }).click();
    await page.getByText('検証が終わりました').waitFor();
    assert.match((await page.locator('#summary').textContent()) ?? '', /判定できませんでした/);
    assert.equal(await page.locator('#confirm-form').isHidden(), true);

    await page.getByLabel('エンティティ型（半角英数字）').fill('BicycleParking');
    await page.getByLabel('「駐輪場名」の属性名 / attribute for 駐輪場名').fill('name');
    await page.getByLabel('「収容台数」の属性名 / attribute for 収容台数').fill('capacity');
    await page.getByLabel('「収容台数」の種類 / kind of 収容台数').selectOption('number');
    await page.getByLabel('ID の列').selectOption('管理番号');
    await page.getByLabel('緯度の列').selectOption('北緯');
    await page.getByLabel('経度の列').selectOption('東経');
    await page.getByRole('button', { name: /この対応で再検証/ }).click();
    await page.getByText('再検証しました。').waitFor();
    assert.equal(await page.locator('#mapping').isHidden(), true);
    assert.equal(await page.locator('#map circle').count(), 1);

    await page.getByRole('button', { name: /確認して登録/ }).click();
    await page.getByText('1件を登録しました').waitFor();
    const listed = await send(
      `${t.url}/v2/entities?type=BicycleParking&options=keyValues&attrs=name,capacity`,
    );
    assert.deepEqual(listed.body, [
      {
        id: 'urn:ngsi-ld:BicycleParking:131016:P7',
        type: 'BicycleParking',
        name: '西口駐輪場',
        capacity: 300,
      },
    ]);
    await page.close();
  });

  it('shows the decoding error with its line instead of a report', async () => {
    const file = path.join(dir, 'broken.csv');
    writeFileSync(
      file,
      Buffer.concat([sjis('名称,住所\r\nあ,い\r\nう'), Buffer.from([0x85, 0x40]), sjis('\r\n')]),
    );
    const page = await browser.newPage();
    await page.goto(`${t.url}/admin/opendata`);
    await page.getByLabel('アクセストークン').fill('staff');
    await page.getByLabel('CSVファイル（200MBまで）').setInputFiles(file);
    await page.getByRole('button', { name: /アップロードして検証/ }).click();
    await page.getByText('エラー / Error 422').waitFor();
    assert.match(
      (await page.locator('#status').textContent()) ?? '',
      /3行目（20バイト目）が shift_jis として読めません/,
    );
    assert.equal(await page.locator('#report').isHidden(), true);
    await page.close();
  });
});

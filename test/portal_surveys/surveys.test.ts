/**
 * Surveys in chromium: a staff member builds a form (single and multiple choice, text, number, date,
 * required flags), opens it and gets its URL; a resident answers once (a form with mistakes comes
 * back marked, a second answer is refused); the CSV export is UTF-8 with BOM and CRLF with the right
 * columns (Excel), the JSON export carries the questions; every page passes axe; refused changes
 * (editing an open survey, answering a closed one) change nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import type { BrowserContext, Page } from 'playwright-core';
import { createIdpModuleWith } from '../../idp/index.ts';
import type { SurveyStore } from '../../portal/surveys/survey_store.ts';
import { createCrl, createTestCa, issueCard } from '../idp/jpki_fixtures.ts';
import {
  axe,
  type ConsolePlatform,
  consoleCookie,
  createStaff,
  signInResident,
  signInStaff,
  startConsolePlatform,
} from '../portal_admin/support.ts';

describe('surveys: build, answer once, export', () => {
  let c: ConsolePlatform;
  let staff: Page;
  let staffContext: BrowserContext;
  let resident: Page;
  let surveyId: string;
  let residentCsrf: string;
  const surveys = () => (c.t.platform.services['portal'] as { surveys: SurveyStore }).surveys;
  const answerCount = async () =>
    Number(
      (
        await c.t.platform.db.query<{ n: string }>(
          'SELECT count(*) AS n FROM portal.survey_answers WHERE survey_id = $1',
          [surveyId],
        )
      ).rows[0]!.n,
    );

  const addQuestion = async (q: {
    type: string;
    ja: string;
    en: string;
    options?: string;
    required?: boolean;
    min?: string;
    max?: string;
  }) => {
    await staff.selectOption('#type', q.type);
    await staff.fill('#labelJa', q.ja);
    await staff.fill('#labelEn', q.en);
    await staff.fill('#options', q.options ?? '');
    await staff.fill('#min', q.min ?? '');
    await staff.fill('#max', q.max ?? '');
    if (q.required) await staff.check('#required');
    else await staff.uncheck('#required');
    await Promise.all([staff.waitForNavigation(), staff.click('#add-question')]);
    assert.match(staff.url(), /done=added/, (await staff.textContent('main')) ?? '');
  };

  before(async () => {
    const ca = await createTestCa();
    const card = { sign: await issueCard(ca, { kind: 'sign' }), auth: await issueCard(ca, { kind: 'auth' }) };
    c = await startConsolePlatform({
      idp: createIdpModuleWith({
        jpki: { trustAnchors: ca.pem, test: true, crls: [await createCrl(ca, [])] },
      }),
    });
    ({ context: staffContext, page: staff } = await signInStaff(
      c,
      await createStaff(c.idp, 'chousa', true),
      '/admin/surveys',
    ));
    resident = await (
      await c.browser.newContext({ locale: 'ja-JP', viewport: { width: 390, height: 844 }, bypassCSP: true })
    ).newPage();
    await signInResident(c, resident, card, '/portal/surveys');
  });
  after(async () => {
    await c?.stop();
  });

  it('a staff member builds a form with every kind of question and opens it (axe clean)', async () => {
    assert.deepEqual(await axe(staff), []);
    await staff.fill('#titleJa', '市民満足度調査');
    await staff.fill('#titleEn', 'Resident satisfaction');
    await staff.fill('#descriptionJa', '5分ほどで終わります。');
    await staff.click('#create-survey');
    await staff.waitForURL(/\/admin\/surveys\/[0-9a-f-]{36}\?done=created/);
    surveyId = /surveys\/([0-9a-f-]{36})/.exec(staff.url())![1]!;
    assert.deepEqual(await axe(staff), []);

    await addQuestion({
      type: 'single',
      ja: '満足度',
      en: 'Satisfaction',
      options: '満足 / Satisfied\n普通 / Neutral\n不満 / Unsatisfied',
      required: true,
    });
    await addQuestion({
      type: 'multiple',
      ja: 'よく使う施設',
      en: 'Facilities you use',
      options: '図書館 / Library\n体育館 / Gym\n公民館 / Hall',
    });
    await addQuestion({ type: 'text', ja: 'ご意見', en: 'Comments' });
    await addQuestion({ type: 'number', ja: '年齢', en: 'Age', min: '0', max: '120', required: true });
    await addQuestion({ type: 'date', ja: '来庁日', en: 'Date of visit' });
    await addQuestion({ type: 'text', ja: '削除する質問', en: 'To be removed' });
    await staff.click('form[action$="/questions/remove"] button:has(span:text("削除する質問"))');
    await staff.waitForURL(/done=removed/);
    // Age before comments.
    await staff.click('form[action$="/questions/up"] button:has(span:text("年齢"))');
    await staff.waitForURL(/done=moved/);
    assert.deepEqual(await axe(staff), []);
    // A choice question without options is refused.
    await staff.selectOption('#type', 'single');
    await staff.fill('#labelJa', '選択肢なし');
    await staff.fill('#labelEn', 'No options');
    await staff.fill('#options', '');
    await staff.click('#add-question');
    await staff.waitForSelector('#problem');
    assert.equal(await staff.getAttribute('#problem', 'data-code'), 'validation-failed');
    assert.deepEqual(await axe(staff), []);
    await staff.goto(`${c.url}/admin/surveys/${surveyId}`);
    await staff.click('#open-survey');
    await staff.waitForURL(/done=opened/);
    assert.equal(await staff.textContent('#survey-url'), `${c.url}/portal/surveys/${surveyId}`);
    assert.deepEqual(await axe(staff), []);
    const s = await surveys().get(surveyId);
    assert.deepEqual(
      s.questions.map((q) => [q.type, q.labelJa, q.required]),
      [
        ['single', '満足度', true],
        ['multiple', 'よく使う施設', false],
        ['number', '年齢', true],
        ['text', 'ご意見', false],
        ['date', '来庁日', false],
      ],
    );
  });

  it('refuses question changes once open, and nothing changes', async () => {
    const before = await surveys().get(surveyId);
    await assert.rejects(
      surveys().addQuestion(
        surveyId,
        { type: 'text', labelJa: 'x', labelEn: 'x', required: false },
        'staff:test',
      ),
      { code: 'survey-not-draft' },
    );
    assert.deepEqual((await surveys().get(surveyId)).questions, before.questions);
  });

  it('a resident answers through the URL; mistakes come back marked; a second answer is refused', async () => {
    await resident.goto(`${c.url}/portal/surveys`);
    assert.match((await resident.textContent('#surveys'))!, /市民満足度調査/);
    assert.deepEqual(await axe(resident), []);
    await resident.goto(`${c.url}/portal/surveys/${surveyId}`);
    assert.deepEqual(await axe(resident), []);
    residentCsrf = (await resident.getAttribute('input[name=csrf]', 'value'))!;
    // Missing the required satisfaction, age out of range.
    await resident.fill('#q_q4', '200');
    await resident.click('#submit-answers');
    await resident.waitForSelector('#errors');
    assert.equal(await resident.getAttribute('#q_q4', 'aria-invalid'), 'true');
    assert.equal(await resident.inputValue('#q_q4'), '200');
    assert.deepEqual(await axe(resident), []);
    assert.equal(await answerCount(), 0);

    await resident.check('#q_q1-0');
    await resident.check('#q_q2-0');
    await resident.check('#q_q2-2');
    await resident.fill('#q_q4', '42');
    await resident.fill('#q_q3', '=HYPERLINK("http://x")、"引用"もあります');
    await resident.fill('#q_q5', '2026-11-20');
    await resident.click('#submit-answers');
    await resident.waitForSelector('#thanks');
    assert.deepEqual(await axe(resident), []);
    assert.equal(await answerCount(), 1);

    await resident.goto(`${c.url}/portal/surveys/${surveyId}`);
    assert.ok(await resident.$('#answered'));
    assert.deepEqual(await axe(resident), []);
    const cookie = (await resident.context().cookies())
      .filter((k) => k.path === '/portal')
      .map((k) => `${k.name}=${k.value}`)
      .join('; ');
    const forged = await fetch(`${c.url}/portal/surveys/${surveyId}`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: 'forged', q_q1: '不満', q_q4: '1' }),
    });
    assert.equal(forged.status, 403);
    const again = await fetch(`${c.url}/portal/surveys/${surveyId}`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: residentCsrf, q_q1: '不満', q_q4: '1' }),
    });
    assert.equal(again.status, 409);
    assert.equal(await answerCount(), 1);
    // Stored sealed, under a pseudonym: neither the text nor the common ID is in the row.
    const row = (
      await c.t.platform.db.query<{ respondent: string; sealed_answers: string }>(
        'SELECT * FROM portal.survey_answers',
      )
    ).rows[0]!;
    assert.match(row.respondent, /^r_/);
    assert.doesNotMatch(row.sealed_answers, /HYPERLINK/);
  });

  it('exports CSV (UTF-8 with BOM, CRLF, one column per question) and JSON; both audited', async () => {
    await surveys().answer(surveyId, 'b'.repeat(26), { q1: '不満', q4: 70, q2: [] });
    const cookie = await consoleCookie(staffContext);
    const res = await fetch(`${c.url}/admin/surveys/${surveyId}/answers.csv`, { headers: { cookie } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/csv; charset=utf-8');
    assert.match(res.headers.get('content-disposition')!, /attachment; filename="survey-.+\.csv"/);
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    const text = bytes.subarray(3).toString('utf8');
    assert.ok(text.endsWith('\r\n'));
    assert.equal(text.split('\r\n').length, 4); // header, two answers, final empty
    const rows = parse(text) as string[][];
    assert.deepEqual(rows[0], ['回答者', '回答日時', '満足度', 'よく使う施設', '年齢', 'ご意見', '来庁日']);
    const [first, second] = [rows[1]!, rows[2]!];
    assert.match(first[0]!, /^r_/);
    assert.match(first[1]!, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    assert.deepEqual(first.slice(2), [
      '満足',
      '図書館; 公民館',
      '42',
      `'=HYPERLINK("http://x")、"引用"もあります`,
      '2026-11-20',
    ]);
    assert.deepEqual(second.slice(2), ['不満', '', '70', '', '']);
    assert.notEqual(first[0], second[0]);

    const json = (await (
      await fetch(`${c.url}/admin/surveys/${surveyId}/answers.json`, { headers: { cookie } })
    ).json()) as {
      survey: { questions: Array<{ id: string; type: string }> };
      answers: Array<{ respondent: string; answers: Record<string, unknown> }>;
    };
    assert.deepEqual(
      json.survey.questions.map((q) => `${q.id}:${q.type}`),
      ['q1:single', 'q2:multiple', 'q4:number', 'q3:text', 'q5:date'],
    );
    assert.deepEqual(json.answers[0]!.answers, {
      q1: '満足',
      q2: ['図書館', '公民館'],
      q3: '=HYPERLINK("http://x")、"引用"もあります',
      q4: 42,
      q5: '2026-11-20',
    });
    const exports = await c.t.platform.db.query<{ details: { format: string } }>(
      `SELECT details FROM core.audit_log WHERE action = 'portal.survey.export' ORDER BY seq`,
    );
    assert.deepEqual(
      exports.rows.map((r) => r.details.format),
      ['csv', 'json'],
    );
  });

  it('a closed survey takes no answers', async () => {
    await staff.goto(`${c.url}/admin/surveys/${surveyId}`);
    await staff.click('#close-survey');
    await staff.waitForURL(/done=closed/);
    const before = await answerCount();
    await assert.rejects(surveys().answer(surveyId, 'c'.repeat(26), { q1: '満足', q4: 1 }), {
      code: 'survey-not-open',
    });
    await resident.goto(`${c.url}/portal/surveys/${surveyId}`);
    assert.ok(await resident.$('#closed'));
    assert.deepEqual(await axe(resident), []);
    assert.equal(await answerCount(), before);
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runImport } from '../../opendata/cli.ts';
import type { OpendataService } from '../../opendata/index.ts';
import { send } from '../support/http.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { LEGACY_AED, sjis } from './fixtures.ts';

describe('opendata import command', () => {
  let t: TestPlatform;
  let dir: string;
  let file: string;
  before(async () => {
    t = await startTestPlatform();
    dir = mkdtempSync(path.join(os.tmpdir(), 'opendata-cli-'));
    file = path.join(dir, 'aed.csv');
    writeFileSync(file, sjis(LEGACY_AED));
  });
  after(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = async (args: string[], withPlatform = true) => {
    let text = '';
    const code = await runImport(
      args,
      (s) => {
        text += s;
      },
      withPlatform
        ? async () => ({ service: t.platform.services['opendata'] as OpendataService, close: async () => {} })
        : null,
    );
    return { code, text };
  };

  const expected = {
    encoding: 'shift_jis',
    bom: false,
    dataset: { id: 'aed', title: 'AED設置箇所一覧', score: 1 },
    headerLine: 3,
    rowsRead: 5,
    rowsValid: 3,
    rowsInvalid: 2,
    errors: 2,
    warnings: 10,
    repairs: 7,
  };

  it('--dry-run --json prints the report and registers nothing', async () => {
    const { code, text } = await run(['import', file, '--dry-run', '--json']);
    assert.equal(code, 0);
    const out = JSON.parse(text);
    assert.deepEqual(
      { ...out, byRule: undefined },
      { file, ...expected, rowsRegistered: null, byRule: undefined },
    );
    assert.equal(out.byRule['code6.leading-zero'], 1);
    assert.deepEqual((await send(`${t.url}/v2/entities?type=AED`)).body, []);
  });

  it('registers through the platform and prints Japanese text without --json', async () => {
    const { code, text } = await run(['import', file, '--dataset-id', '092011-aed']);
    assert.equal(code, 0);
    assert.match(
      text,
      /^ファイル: .*aed\.csv\n文字コード: shift_jis\nデータセット: AED設置箇所一覧 \(aed\) 一致度 1\n/,
    );
    assert.match(text, /読み込み 5行 \/ 登録可能 3行 \/ エラー 2行 \/ 登録 3件/);
    assert.match(text, /\n8行目「名称」: 必須項目が空です\n/);
    assert.equal((await send(`${t.url}/v2/entities?type=AED`)).body.length, 3);
  });

  it('rejects an undecodable file with exit status 1', async () => {
    const bad = path.join(dir, 'bad.csv');
    writeFileSync(bad, Buffer.concat([Buffer.from('a,b\n'), Buffer.from([0x85, 0x40])]));
    const { code, text } = await run(['import', bad, '--json'], false);
    assert.equal(code, 1);
    assert.equal(JSON.parse(text).error, 'opendata-undecodable');
  });

  it('answers usage errors with exit status 2', async () => {
    assert.equal((await run(['export'], false)).code, 2);
  });
});

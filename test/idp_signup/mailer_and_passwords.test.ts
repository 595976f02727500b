/**
 * The outside-system ports of sign-up against contract test doubles: the SMTP mailer (nodemailer)
 * against an SMTP server double (smtp-server) that captures what a real relay would receive, and
 * the breached-password range client against a double of the k-anonymity range API — which must
 * only ever see the first five characters of the hash. Plus the password policy itself.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { createLocalBreachList, createRangeApiClient, createSmtpMailer } from '../../idp/index.ts';
import {
  checkPassword,
  defaultBreachList,
  hashPassword,
  verifyPassword,
} from '../../idp/signup/passwords.ts';
import { freePort } from '../support/ports.ts';

interface Captured {
  from: string;
  to: string[];
  raw: string;
}

describe('SMTP mailer against an SMTP server double', () => {
  let server: SMTPServer;
  let port: number;
  const captured: Captured[] = [];

  before(async () => {
    port = await freePort();
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo(address, _session, callback) {
        if (address.address.endsWith('@refused.example.jp'))
          return callback(Object.assign(new Error('mailbox unavailable'), { responseCode: 550 }));
        callback();
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          captured.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString('utf8'),
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('delivers a Japanese message with the link intact', async () => {
    const mailer = createSmtpMailer({
      url: `smtp://127.0.0.1:${port}`,
      from: 'noreply@city.saijo.example.jp',
    });
    const link = 'http://localhost:3000/idp/signup/verify/AbC_dEf-123';
    await mailer.send({
      to: 'hanako@example.jp',
      subject: '【つなぐ】メールアドレスの確認',
      text: `次のリンクを開いてください。\n${link}\n`,
    });
    const mail = captured.at(-1)!;
    assert.equal(mail.from, 'noreply@city.saijo.example.jp');
    assert.deepEqual(mail.to, ['hanako@example.jp']);
    assert.match(mail.raw, /^Subject: =\?UTF-8\?B\?/m);
    const [, body] = mail.raw.split(/\r?\n\r?\n/);
    const text = Buffer.from(body!.replace(/\s+/g, ''), 'base64').toString('utf8');
    assert.ok(text.includes(link));
    assert.ok(text.includes('次のリンクを開いてください。'));
  });

  it('rejects when the relay refuses the recipient', async () => {
    const mailer = createSmtpMailer({
      url: `smtp://127.0.0.1:${port}`,
      from: 'noreply@city.saijo.example.jp',
    });
    const before = captured.length;
    await assert.rejects(mailer.send({ to: 'x@refused.example.jp', subject: 's', text: 't' }), /550/);
    assert.equal(captured.length, before);
  });
});

describe('breached passwords and the password policy', () => {
  let api: Server;
  let url: string;
  const asked: string[] = [];

  before(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const breached = createHash('sha1').update('Saijo-uchinuki-1').digest('hex').toUpperCase();
    api = createServer((req, res) => {
      const prefix = /^\/range\/([0-9A-F]{5})$/.exec(req.url ?? '')?.[1];
      if (!prefix) return res.writeHead(404).end();
      asked.push(req.url!);
      // Padding lines (count 0) as the real API adds them.
      const lines = ['0018A45C4D1DEF81644B54AB7F969B88D65:0', '00D4F6E8FA6EECAD2A3AA415EEC418D38EC:2'];
      if (breached.startsWith(prefix)) lines.push(`${breached.slice(5)}:3861`);
      res.writeHead(200, { 'content-type': 'text/plain' }).end(lines.join('\r\n'));
    });
    await new Promise<void>((resolve) => api.listen(port, '127.0.0.1', resolve));
  });
  after(async () => {
    await new Promise((resolve) => api.close(resolve));
  });

  it('asks the range API with only the first five hex characters of the SHA-1', async () => {
    const client = createRangeApiClient({ url });
    assert.equal(await client.count('Saijo-uchinuki-1'), 3861);
    assert.equal(await client.count('Ishizuchi-san-1982m'), 0);
    assert.equal(asked.length, 2);
    assert.ok(asked.every((path) => /^\/range\/[0-9A-F]{5}$/.test(path)));
  });

  it('fails closed when the range API is unavailable', async () => {
    const client = createRangeApiClient({ url: `${url}/missing` });
    await assert.rejects(client.count('anything-at-all'), /404/);
  });

  it('applies length, variety, e-mail and breach checks', async () => {
    const list = defaultBreachList();
    const check = (p: string) => checkPassword(p, 'hanako.hirakata@example.jp', list);
    assert.equal(await check('short1!'), 'TOO_SHORT');
    assert.equal(await check('aaaabbbbaaaabbbb'), 'TOO_SIMPLE');
    assert.equal(await check('my-hanako.hirakata-pw'), 'CONTAINS_EMAIL');
    assert.equal(await check('password123'), 'BREACHED');
    assert.equal(await check('Kawa-no-nagare-2026'), null);
    const local = createLocalBreachList(
      `${createHash('sha1').update('Kawa-no-nagare-2026').digest('hex')}:5\n`,
    );
    assert.equal(await checkPassword('Kawa-no-nagare-2026', 'a@example.jp', local), 'BREACHED');
  });

  it('hashes with scrypt and verifies (NFKC, so full-width digits match)', async () => {
    const stored = await hashPassword('Kawa-no-nagare-2026');
    assert.match(stored, /^scrypt\$/);
    assert.equal(await verifyPassword('Kawa-no-nagare-2026', stored), true);
    assert.equal(await verifyPassword('Kawa-no-nagare-２０２６', stored), true);
    assert.equal(await verifyPassword('Kawa-no-nagare-2025', stored), false);
    assert.equal(await verifyPassword('anything', null), false);
  });
});

/**
 * The mailer port: how the identity provider sends verification links and invitations. Every
 * implementation follows this interface:
 *
 *   send({ to, subject, text })   resolves once the message was accepted for delivery (the SMTP
 *                                 server answered 250 to DATA); rejects otherwise. The caller never
 *                                 logs `to` or `text` (they carry personal data and live links).
 *
 * Implementations: `createSmtpMailer` (nodemailer over SMTP, `SMTP_URL` such as
 * `smtps://user:pass@mail.example.lg.jp:465`), and `createMemoryMailer` (keeps messages in memory:
 * the embedded default when no SMTP server is configured, announced as an unsafe default, and a
 * capture for tests).
 *
 * @example
 *   const mailer = createSmtpMailer({ url: 'smtp://127.0.0.1:2525', from: 'noreply@city.example.jp' });
 *   await mailer.send({ to: 'hanako@example.jp', subject: '登録の確認', text: 'https://…' });
 */
import nodemailer from 'nodemailer';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

export function createSmtpMailer(options: { url: string; from: string }): Mailer {
  const transport = nodemailer.createTransport(options.url);
  return {
    async send(message) {
      await transport.sendMail({
        from: options.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        textEncoding: 'base64',
      });
    },
  };
}

export interface MemoryMailer extends Mailer {
  readonly sent: MailMessage[];
}

export function createMemoryMailer(): MemoryMailer {
  const sent: MailMessage[] = [];
  return {
    sent,
    async send(message) {
      sent.push({ ...message });
    },
  };
}

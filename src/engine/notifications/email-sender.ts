import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';

/** Where email notifications go out: an SMTP server, and the sender's address. */
export interface SmtpSettings {
  /** smtp://user:pass@host:port (STARTTLS when the server offers it), or smtps:// for TLS from the start. */
  url: string;
  from: string;
}

export interface EmailSender {
  send(to: string, subject: string, text: string): Promise<void>;
  close(): void;
}

/** The transport options of an smtp:// or smtps:// URL, every wait bounded by `timeoutMs`. */
export function smtpTransportOptions(url: string, timeoutMs: number): SMTPTransport.Options {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'smtps:';
  if (!secure && parsed.protocol !== 'smtp:') {
    throw new Error(`the SMTP URL must start with smtp:// or smtps://, got ${parsed.protocol}`);
  }
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : secure ? 465 : 587,
    secure,
    ...(parsed.username
      ? {
          auth: {
            user: decodeURIComponent(parsed.username),
            pass: decodeURIComponent(parsed.password),
          },
        }
      : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  };
}

export function smtpEmailSender(smtp: SmtpSettings, timeoutMs: number): EmailSender {
  const transport = nodemailer.createTransport(smtpTransportOptions(smtp.url, timeoutMs));
  return {
    async send(to, subject, text) {
      await transport.sendMail({ from: smtp.from, to, subject, text });
    },
    close() {
      transport.close();
    },
  };
}

import type { AddressInfo } from 'node:net';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import addressparser from 'nodemailer/lib/addressparser';
import * as z from 'zod';
import { injectFaultsInto } from '../../faults/sdk.js';

/** The in-process SES stand-in (aws-ses-v2-local): its endpoint, and how to stop it. */
export interface LocalSes {
  /** `http://127.0.0.1:<port>`: give it to `localSesClient`, open it in a browser to see the captured mail. */
  endpoint: string;
  stop(): Promise<void>;
}

/** A message as the stand-in captured it. Addresses are bare (`a@example.com`), one per entry. */
export interface CapturedEmail {
  messageId: string;
  from: string;
  replyTo: string[];
  to: string[];
  cc: string[];
  bcc: string[];
  subject: string;
  html?: string;
  text?: string;
  attachments: { filename?: string; contentType: string; size: number; content: Buffer }[];
  /** When the stand-in took it, to the second. */
  at: Date;
}

/** Dev-only: a dynamic import keeps the stand-in (and express) out of the Lambda bundles. */
async function loadStandIn() {
  // The package is CommonJS with an `exports.default`: Node's ESM loader puts the server factory at
  // `.default.default`, while Vite-based runners (vitest) apply the `__esModule` interop and put it at `.default`.
  const module = await import('aws-ses-v2-local');
  type StartServer = typeof module.default.default;
  const exported = module.default as StartServer | { default: StartServer };
  return typeof exported === 'function' ? exported : exported.default;
}

function endpointFor(host: string, port: number): string {
  // A wildcard bind is reachable on loopback; IPv6 literals need brackets in a URL.
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

/**
 * Starts aws-ses-v2-local inside this process (about 5 ms) on `host` (default `127.0.0.1`) and `port` (default: a
 * free one). It captures every message it is sent; read them with `readLocalMailbox` or at `<endpoint>/` in a
 * browser. The stand-in keeps its mailbox in one module-level store, so two instances in one process share it.
 *
 * @example const ses = await startLocalSes(); const mailer = new SesMailer({ client: localSesClient(ses.endpoint) });
 */
export async function startLocalSes(options: { port?: number; host?: string } = {}): Promise<LocalSes> {
  const host = options.host ?? '127.0.0.1';
  const startServer = await loadStandIn();
  const server = await startServer({ port: options.port ?? 0, host });
  // The stand-in resolves even when listening failed (Express hands the error to a callback it ignores).
  if (!server.listening) {
    throw new Error(`The local SES stand-in could not listen on ${host}:${options.port ?? 0}; is the port already in use?`);
  }
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: endpointFor(host, port),
    stop: () =>
      new Promise<void>((resolve, reject) => {
        // Keep-alive sockets from SDK clients would otherwise hold `close` open.
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/**
 * An SES v2 client for the stand-in. It accepts any credentials but needs a signed request, so fixed dummy
 * credentials are given here rather than taken from the environment.
 */
export function localSesClient(endpoint: string): SESv2Client {
  const client = new SESv2Client({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'billowlocal', secretAccessKey: 'billowlocal' },
  });
  // Inert unless the fault layer is on (functions/faults).
  return injectFaultsInto(client, 'ses');
}

const storeSchema = z.object({
  emails: z.array(
    z.object({
      messageId: z.string(),
      from: z.string(),
      replyTo: z.array(z.string()).default([]),
      destination: z.object({ to: z.array(z.string()), cc: z.array(z.string()), bcc: z.array(z.string()) }),
      subject: z.string(),
      body: z.object({ html: z.string().optional(), text: z.string().optional() }),
      attachments: z.array(z.object({ filename: z.string().optional(), contentType: z.string(), size: z.number(), content: z.string() })),
      at: z.number(),
    }),
  ),
});

// For raw messages the stand-in keeps each address header as one display string ("a@x.com, b@x.com").
function bareAddresses(fields: string[]): string[] {
  return addressparser(fields.join(', '), { flatten: true })
    .map((mailbox) => mailbox.address)
    .filter(Boolean);
}

/**
 * The messages the stand-in at `endpoint` has captured, oldest first; with `since`, only those taken at or after
 * that second.
 *
 * @example const [mail] = await readLocalMailbox(ses.endpoint, { since: startedAt });
 */
export async function readLocalMailbox(endpoint: string, options: { since?: Date } = {}): Promise<CapturedEmail[]> {
  const url = new URL('/store', endpoint);
  if (options.since) url.searchParams.set('since', String(Math.floor(options.since.getTime() / 1000)));
  const response = await fetch(url);
  if (!response.ok) throw new Error(`The local SES stand-in answered ${response.status} to GET ${url.pathname}`);
  const store = storeSchema.parse(await response.json());
  return store.emails.map((email) => ({
    messageId: email.messageId,
    from: email.from,
    replyTo: bareAddresses(email.replyTo),
    to: bareAddresses(email.destination.to),
    cc: bareAddresses(email.destination.cc),
    bcc: bareAddresses(email.destination.bcc),
    subject: email.subject,
    html: email.body.html,
    text: email.body.text,
    attachments: email.attachments.map((attachment) => ({
      filename: attachment.filename,
      contentType: attachment.contentType,
      size: attachment.size,
      content: Buffer.from(attachment.content, 'base64'),
    })),
    at: new Date(email.at * 1000),
  }));
}

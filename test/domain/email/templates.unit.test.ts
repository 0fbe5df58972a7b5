import { describe, expect, it } from 'vitest';
import Mustache from 'mustache';
import {
  DEFAULT_EMAIL_TEMPLATES,
  EMAIL_TEMPLATE_NAMES,
  EMAIL_TEMPLATE_VARIABLES,
  TEMPLATE_VARIABLE_DESCRIPTIONS,
  emailTemplateSchema,
  isEmailTemplateName,
  renderTemplate as renderWith,
  templatePlaceholders,
  type TemplateVariables,
} from '../../../functions/domain/email/templates.js';
import * as sanitizer from '../../../functions/domain/email/sanitize.js';

/** Rendering with the sanitiser `functions/email/notify.ts` hands in. */
const renderTemplate = (template: Parameters<typeof renderWith>[0], variables: TemplateVariables) => renderWith(template, variables, sanitizer);

/** A value for every variable any template may use. */
const fullVariables: TemplateVariables = {
  client: { number: 1042, firstName: 'Ada', lastName: 'Lovelace', company: 'Analytical Engines Ltd', email: 'ada@example.com' },
  company: { name: 'Billow Hosting' },
  loginUrl: 'https://portal.billow.test/login',
  username: 'ada',
  setPasswordUrl: 'https://portal.billow.test/set-password?token=abc123',
  invoice: { number: 42, dateBilled: '2027-01-01', dateDue: '2027-01-15', total: '$120.00', due: '$20.00' },
  payment: { amount: '$100.00', date: '2027-01-05', method: 'Visa ending 4242', transactionId: 'txn_9Q2' },
  autoDebit: { date: '2027-01-12' },
  statement: { date: '2027-02-01', closingBalance: '$20.00' },
};

describe('email template names and variables', () => {
  it('lists the eleven templates of the API', () => {
    expect(EMAIL_TEMPLATE_NAMES).toHaveLength(11);
    expect(Object.keys(DEFAULT_EMAIL_TEMPLATES).sort()).toEqual([...EMAIL_TEMPLATE_NAMES].sort());
    expect(isEmailTemplateName('statement')).toBe(true);
    expect(isEmailTemplateName('password_reset')).toBe(false);
  });

  it('has each default template use only the variables declared for it, each of them described', () => {
    for (const name of EMAIL_TEMPLATE_NAMES) {
      const declared = EMAIL_TEMPLATE_VARIABLES[name];
      expect(
        templatePlaceholders(DEFAULT_EMAIL_TEMPLATES[name]).filter((used) => !declared.includes(used)),
        name,
      ).toEqual([]);
      for (const variable of declared) expect(TEMPLATE_VARIABLE_DESCRIPTIONS[variable], variable).toBeTruthy();
    }
  });

  it('never puts a password in a default template: only the one-time set-password link', () => {
    for (const name of EMAIL_TEMPLATE_NAMES) {
      const passwordLike = templatePlaceholders(DEFAULT_EMAIL_TEMPLATES[name]).filter((variable) => /pass|pwd|secret|credential/i.test(variable));
      expect(
        passwordLike.filter((variable) => variable !== 'setPasswordUrl'),
        name,
      ).toEqual([]);
    }
    for (const variable of Object.keys(TEMPLATE_VARIABLE_DESCRIPTIONS)) {
      if (/pass|pwd/i.test(variable)) expect(variable).toBe('setPasswordUrl');
    }
  });
});

describe('renderTemplate', () => {
  it('renders every default template with a full variable set, leaving no placeholders', () => {
    for (const name of EMAIL_TEMPLATE_NAMES) {
      const rendered = renderTemplate(DEFAULT_EMAIL_TEMPLATES[name], fullVariables);
      for (const part of [rendered.subject, rendered.html, rendered.text]) {
        expect(part, name).not.toContain('{{');
        expect(part, name).not.toContain('}}');
        expect(part.trim(), name).not.toBe('');
      }
      expect(rendered.text, name).toContain('Hello Ada,');
      expect(rendered.html, name).toContain('Billow Hosting');
    }
  });

  it('fills in the values the template names', () => {
    const rendered = renderTemplate(DEFAULT_EMAIL_TEMPLATES.invoice_delivery, fullVariables);
    expect(rendered.subject).toBe('Invoice #42 from Billow Hosting');
    expect(rendered.text).toContain('Amount due: $20.00\nDue date: 2027-01-15');
    expect(rendered.html).toContain('<a href="https://portal.billow.test/login">https://portal.billow.test/login</a>');
  });

  it('escapes values in the HTML, in every mustache form, but not in the subject or text', () => {
    const template = { subject: 'Hi {{name}}', html: '<p>{{name}} {{{name}}} {{& name}}</p>', text: 'Hi {{name}} & {{{name}}}' };
    const rendered = renderTemplate(template, { name: 'Tom & <b>Jerry</b> "Q"' });
    expect(rendered.html).toBe('<p>Tom &amp; &lt;b&gt;Jerry&lt;/b&gt; "Q" Tom &amp; &lt;b&gt;Jerry&lt;/b&gt; "Q" Tom &amp; &lt;b&gt;Jerry&lt;/b&gt; "Q"</p>');
    expect(rendered.subject).toBe('Hi Tom & <b>Jerry</b> "Q"');
    expect(rendered.text).toBe('Hi Tom & <b>Jerry</b> "Q" & Tom & <b>Jerry</b> "Q"');
  });

  it('does not touch the shared mustache settings other callers rely on', () => {
    renderTemplate({ subject: '{{x}}', html: '{{x}}', text: '{{x}}' }, { x: '<i>' });
    expect(Mustache.render('{{x}}', { x: '<i>' })).toBe('&lt;i&gt;');
  });

  it('sanitises the HTML, whatever the template or the values contain', () => {
    const template = { subject: 's', html: '<p onclick="x()">Hi<script>alert(1)</script> <a href="{{url}}">link</a></p><iframe src="x"></iframe>', text: 't' };
    expect(renderTemplate(template, { url: 'javascript:alert(1)' }).html).toBe('<p>Hi <a>link</a></p>');
  });

  it('renders unknown or missing variables as empty text', () => {
    const rendered = renderTemplate({ subject: 'Hi {{client.nickname}}!', html: '<p>{{nope.deeper}}x</p>', text: '{{missing}}y' }, {});
    expect(rendered).toEqual({ subject: 'Hi !', html: '<p>x</p>', text: 'y' });
  });

  it('finds nothing on the prototype chain and calls no functions', () => {
    const rendered = renderTemplate(
      { subject: '{{constructor}}{{toString}}{{client.__proto__}}{{client.hasOwnProperty}}', html: '<p>{{#constructor}}x{{/constructor}}</p>', text: 't' },
      { client: { firstName: 'A' } },
    );
    expect(rendered.subject).toBe('');
    expect(rendered.html).toBe('<p></p>');
  });

  it('keeps the subject on one line', () => {
    expect(renderTemplate({ subject: 'Invoice {{n}}', html: 'h', text: 't' }, { n: '42\r\nBcc: x@evil.test' }).subject).toBe('Invoice 42 Bcc: x@evil.test');
  });

  it('derives the text part from the HTML when the template has none', () => {
    const rendered = renderTemplate(
      { subject: 's', html: '<p>Hello {{name}}</p><p><a href="{{url}}">Pay</a></p>', text: '' },
      { name: 'Ada', url: 'https://x.test/pay' },
    );
    expect(rendered.text).toBe('Hello Ada\n\nPay (https://x.test/pay)');
  });

  it('supports sections and lists', () => {
    const template = {
      subject: 's',
      html: '<ul>{{#lines}}<li>{{name}}: {{amount}}</li>{{/lines}}</ul>',
      text: '{{#client.company}}Company: {{client.company}}{{/client.company}}{{^client.company}}Personal{{/client.company}}',
    };
    const rendered = renderTemplate(template, {
      lines: [
        { name: 'Hosting', amount: '$10.00' },
        { name: 'Domain', amount: '$2.00' },
      ],
      client: {},
    });
    expect(rendered.html).toBe('<ul><li>Hosting: $10.00</li><li>Domain: $2.00</li></ul>');
    expect(rendered.text).toBe('Personal');
  });
});

describe('emailTemplateSchema', () => {
  const valid = { subject: 'Invoice {{invoice.number}}', html: '<p>Hi</p>', text: 'Hi' };

  it('accepts a complete template, and an empty text part', () => {
    expect(emailTemplateSchema.parse(valid)).toEqual(valid);
    expect(emailTemplateSchema.safeParse({ ...valid, text: '' }).success).toBe(true);
  });

  it('requires all three parts and rejects unknown fields', () => {
    for (const field of ['subject', 'html', 'text'] as const) {
      const { [field]: _omitted, ...rest } = valid;
      const result = emailTemplateSchema.safeParse(rest);
      expect(result.success).toBe(false);
      expect(result.error?.issues[0].path).toEqual([field]);
    }
    expect(emailTemplateSchema.safeParse({ ...valid, name: 'x' }).success).toBe(false);
  });

  it('enforces the size limits: subject 1,000 characters, HTML 512 KiB, text 100 KiB', () => {
    expect(emailTemplateSchema.safeParse({ ...valid, subject: 'x'.repeat(1000) }).success).toBe(true);
    expect(emailTemplateSchema.safeParse({ ...valid, subject: 'x'.repeat(1001) }).success).toBe(false);
    expect(emailTemplateSchema.safeParse({ ...valid, html: 'x'.repeat(512 * 1024) }).success).toBe(true);
    expect(emailTemplateSchema.safeParse({ ...valid, html: 'x'.repeat(512 * 1024 + 1) }).success).toBe(false);
    // Measured in bytes: a 3-byte character counts three times.
    expect(emailTemplateSchema.safeParse({ ...valid, text: '€'.repeat(34 * 1024) }).success).toBe(false);
    expect(emailTemplateSchema.safeParse({ ...valid, text: 'x'.repeat(100 * 1024) }).success).toBe(true);
  });

  it('rejects a blank or multi-line subject, a blank HTML part, and broken mustache', () => {
    expect(emailTemplateSchema.safeParse({ ...valid, subject: '  ' }).success).toBe(false);
    expect(emailTemplateSchema.safeParse({ ...valid, subject: 'a\nb' }).success).toBe(false);
    expect(emailTemplateSchema.safeParse({ ...valid, html: ' ' }).success).toBe(false);
    const broken = emailTemplateSchema.safeParse({ ...valid, html: '<p>{{#invoice}}unclosed</p>' });
    expect(broken.success).toBe(false);
    expect(broken.error?.issues[0]).toMatchObject({ path: ['html'], message: expect.stringContaining('Not a valid template') });
  });

  it('accepts every default template', () => {
    for (const name of EMAIL_TEMPLATE_NAMES) expect(emailTemplateSchema.safeParse(DEFAULT_EMAIL_TEMPLATES[name]).success, name).toBe(true);
  });
});

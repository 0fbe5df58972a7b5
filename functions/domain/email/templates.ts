import Mustache from 'mustache';
import * as z from 'zod';

/** The emails Billow sends on its own, each with a template a company may edit. */
export const EMAIL_TEMPLATE_NAMES = [
  'account_registration',
  'login_details',
  'invoice_delivery',
  'payment_receipt',
  'payment_declined',
  'late_notice_first',
  'late_notice_second',
  'late_notice_third',
  'auto_debit_pending',
  'statement',
  'auto_debit_disabled',
] as const;

export type EmailTemplateName = (typeof EMAIL_TEMPLATE_NAMES)[number];

/** A template as stored and as `GET|PUT /v1/email-templates/{name}` shows it: mustache in all three parts. */
export interface EmailTemplate {
  subject: string;
  html: string;
  text: string;
}

/** A rendered email, ready for the mailer: the HTML sanitised, the subject on one line. */
export type RenderedEmail = EmailTemplate;

/** What a template may be given: nested objects reached with dotted names (`client.firstName`), and lists. */
export type TemplateValue = string | number | boolean | null | undefined | TemplateVariables | readonly TemplateVariables[];
export interface TemplateVariables {
  readonly [name: string]: TemplateValue;
}

/** Type guard for a path parameter naming a template. */
export function isEmailTemplateName(name: string): name is EmailTemplateName {
  return (EMAIL_TEMPLATE_NAMES as readonly string[]).includes(name);
}

/** Every variable a default template uses, with what it holds. Money values arrive preformatted (`$10.50`). */
export const TEMPLATE_VARIABLE_DESCRIPTIONS: Readonly<Record<string, string>> = Object.freeze({
  'client.number': "The client's number",
  'client.firstName': "The client's first name",
  'client.lastName': "The client's last name",
  'client.company': "The client's company name, if any",
  'client.email': "The client's email address",
  'company.name': 'The name of your company',
  loginUrl: 'The address where the client logs in',
  username: "The client's username",
  setPasswordUrl: 'A one-time link where the client chooses a password (passwords are never sent by email)',
  'invoice.number': 'The invoice number',
  'invoice.dateBilled': 'The date the invoice was issued',
  'invoice.dateDue': 'The date the invoice is due',
  'invoice.total': 'The invoice total, formatted with its currency',
  'invoice.due': 'The amount still due on the invoice, formatted with its currency',
  'payment.amount': 'The payment amount, formatted with its currency',
  'payment.date': 'The date of the payment',
  'payment.method': 'The payment account, e.g. "Visa ending 4242" (never the full number)',
  'payment.transactionId': 'The transaction reference',
  'autoDebit.date': 'The date the automatic payment will be taken',
  'statement.date': 'The date the statement was produced',
  'statement.closingBalance': 'The balance due on the statement date, formatted with its currency',
});

const CLIENT_AND_COMPANY = ['client.number', 'client.firstName', 'client.lastName', 'client.company', 'client.email', 'company.name', 'loginUrl'];
const LOGIN = ['username', 'setPasswordUrl'];
const INVOICE = ['invoice.number', 'invoice.dateBilled', 'invoice.dateDue', 'invoice.total', 'invoice.due'];
const PAYMENT = ['payment.amount', 'payment.date', 'payment.method'];

/** The variables each template is given when Billow sends it. Others render as empty text. */
export const EMAIL_TEMPLATE_VARIABLES: Readonly<Record<EmailTemplateName, readonly string[]>> = Object.freeze({
  account_registration: [...CLIENT_AND_COMPANY, ...LOGIN],
  login_details: [...CLIENT_AND_COMPANY, ...LOGIN],
  invoice_delivery: [...CLIENT_AND_COMPANY, ...INVOICE],
  payment_receipt: [...CLIENT_AND_COMPANY, ...PAYMENT, 'payment.transactionId'],
  payment_declined: [...CLIENT_AND_COMPANY, ...PAYMENT, ...INVOICE],
  late_notice_first: [...CLIENT_AND_COMPANY, ...INVOICE],
  late_notice_second: [...CLIENT_AND_COMPANY, ...INVOICE],
  late_notice_third: [...CLIENT_AND_COMPANY, ...INVOICE],
  auto_debit_pending: [...CLIENT_AND_COMPANY, ...INVOICE, 'payment.method', 'autoDebit.date'],
  statement: [...CLIENT_AND_COMPANY, 'statement.date', 'statement.closingBalance'],
  auto_debit_disabled: [...CLIENT_AND_COMPANY, 'payment.method'],
});

/**
 * Builds a default template's HTML and text from one list of paragraphs, so the two parts say the same thing.
 * In a paragraph, `\n` is a line break and `<<name>>` a link to the URL variable `name`.
 */
function defaultTemplate(subject: string, paragraphs: Paragraph[]): EmailTemplate {
  const body: Paragraph[] = [`Hello {{client.firstName}},`, ...paragraphs, `Thank you,\n{{company.name}}`];
  const toHtml = (paragraph: string) => `<p>${paragraph.replace(/<<(\w+)>>/g, '<a href="{{$1}}">{{$1}}</a>').replace(/\n/g, '<br>\n')}</p>\n`;
  const toText = (paragraph: string) => `${paragraph.replace(/<<(\w+)>>/g, '{{$1}}')}\n\n`;
  // A conditional paragraph is a section around the whole paragraph and its separator, so nothing of it is left.
  const render = (paragraph: Paragraph, part: (text: string) => string) =>
    typeof paragraph === 'string' ? part(paragraph) : `{{#${paragraph.when}}}${part(paragraph.text)}{{/${paragraph.when}}}`;
  return {
    subject,
    html: body.map((paragraph) => render(paragraph, toHtml)).join(''),
    text: `${body
      .map((paragraph) => render(paragraph, toText))
      .join('')
      .replace(/\n+$/, '')}\n`,
  };
}

/** A paragraph of a default template, or one shown only when the variable `when` has a value. */
type Paragraph = string | { when: string; text: string };

const INVOICE_SUMMARY = 'Invoice: #{{invoice.number}}\nAmount due: {{invoice.due}}\nDue date: {{invoice.dateDue}}';

/** The templates every company starts with; a company's edit replaces one whole template. */
export const DEFAULT_EMAIL_TEMPLATES: Readonly<Record<EmailTemplateName, Readonly<EmailTemplate>>> = Object.freeze({
  account_registration: defaultTemplate('Welcome to {{company.name}}', [
    'Thank you for choosing {{company.name}}. Your account has been created.',
    'Username: {{username}}\nClient number: {{client.number}}',
    'To choose your password, follow this link (it can be used once): <<setPasswordUrl>>',
    'Once your password is set, you can log in at <<loginUrl>> to view your services, invoices and payments.',
  ]),
  login_details: defaultTemplate('Your {{company.name}} login details', [
    'Here are the login details for your account.',
    'Username: {{username}}\nLog in at: <<loginUrl>>',
    'For your security we never send passwords by email. To choose a new password, follow this link (it can be used once): <<setPasswordUrl>>',
    'If you did not expect this email, please contact us.',
  ]),
  invoice_delivery: defaultTemplate('Invoice #{{invoice.number}} from {{company.name}}', [
    'A new invoice has been created for your account. It is attached to this email as a PDF.',
    'Invoice: #{{invoice.number}}\nDate: {{invoice.dateBilled}}\nTotal: {{invoice.total}}\nAmount due: {{invoice.due}}\nDue date: {{invoice.dateDue}}',
    'You can view and pay this invoice by logging in at <<loginUrl>>.',
  ]),
  payment_receipt: defaultTemplate('Payment receipt from {{company.name}}', [
    'Thank you for your payment. This email is your receipt.',
    'Amount: {{payment.amount}}\nDate: {{payment.date}}\nPayment method: {{payment.method}}\nTransaction: {{payment.transactionId}}',
    'You can review your invoices and payments at any time at <<loginUrl>>.',
  ]),
  // A payment may be for no invoice (credit) or for several: the invoice lines show only when it was for one.
  payment_declined: defaultTemplate('Your payment of {{payment.amount}} was declined', [
    'We tried to charge {{payment.amount}} to {{payment.method}}{{#invoice.number}} for invoice #{{invoice.number}}{{/invoice.number}} on {{payment.date}}, but the payment was declined.',
    { when: 'invoice.number', text: INVOICE_SUMMARY },
    'Please log in at <<loginUrl>> to update your payment details or to pay {{#invoice.number}}the invoice{{/invoice.number}}{{^invoice.number}}us{{/invoice.number}} another way.',
  ]),
  late_notice_first: defaultTemplate('Payment reminder: invoice #{{invoice.number}}', [
    'This is a reminder that invoice #{{invoice.number}} is due on {{invoice.dateDue}} and has not been paid yet.',
    INVOICE_SUMMARY,
    'You can pay the invoice by logging in at <<loginUrl>>. If you have already paid, please disregard this email.',
  ]),
  late_notice_second: defaultTemplate('Second reminder: invoice #{{invoice.number}} is unpaid', [
    'Our records show that invoice #{{invoice.number}}, due on {{invoice.dateDue}}, is still unpaid. Please arrange payment as soon as possible.',
    INVOICE_SUMMARY,
    'You can pay the invoice by logging in at <<loginUrl>>. If you have already paid, please disregard this email.',
  ]),
  late_notice_third: defaultTemplate('Final reminder: invoice #{{invoice.number}} is unpaid', [
    'Invoice #{{invoice.number}}, due on {{invoice.dateDue}}, remains unpaid despite our earlier reminders. Please pay it now to avoid any interruption to your services.',
    INVOICE_SUMMARY,
    'You can pay the invoice by logging in at <<loginUrl>>. If you have already paid, please disregard this email, or contact us so we can match your payment.',
  ]),
  auto_debit_pending: defaultTemplate('Upcoming automatic payment for invoice #{{invoice.number}}', [
    'This is a courtesy notice that {{invoice.due}} will be charged to {{payment.method}} on {{autoDebit.date}} for invoice #{{invoice.number}}.',
    INVOICE_SUMMARY,
    'No action is needed. To change your payment method or pay another way, log in at <<loginUrl>>.',
  ]),
  statement: defaultTemplate('Your account statement from {{company.name}}', [
    'Please find attached your account statement as of {{statement.date}}.',
    'Balance due: {{statement.closingBalance}}',
    'You can view your invoices and payments at any time at <<loginUrl>>.',
  ]),
  auto_debit_disabled: defaultTemplate('Automatic payments have been turned off', [
    'After repeated unsuccessful attempts to charge {{payment.method}}, automatic payments have been turned off for your account.',
    'Invoices will not be charged automatically until you update your payment details. Please log in at <<loginUrl>> to add or update a payment account.',
  ]),
});

// Fixed tags, so nothing another module sets on the mustache global changes how templates parse.
const TAGS: Mustache.OpeningAndClosingTags = ['{{', '}}'];
const PARSED_TEMPLATES_KEPT = 32;

/** A parse cache of bounded size: companies' templates are up to 512 KiB each and a container serves many. */
function boundedTemplateCache(): Mustache.TemplateCache {
  const entries = new Map<string, string>();
  return {
    get: (key) => entries.get(key),
    set: (key, value) => {
      if (entries.size >= PARSED_TEMPLATES_KEPT) entries.delete(entries.keys().next().value as string);
      entries.set(key, value);
    },
    clear: () => entries.clear(),
  };
}

// A private writer: its cache and escaping are this module's, never the shared `Mustache` defaults.
const writer = Object.assign(new Mustache.Writer(), { templateCache: boundedTemplateCache() });

type Token = [type: string, value: string, start: number, end: number, children?: Token[]];

/** Why a template part does not parse as mustache (an unclosed section or tag), or undefined when it does. */
function syntaxProblem(part: string): string | undefined {
  try {
    writer.parse(part, TAGS);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

function collectNames(tokens: Token[], into: Set<string>): void {
  for (const [type, value, , , children] of tokens) {
    if (type === 'name' || type === '&' || type === '#' || type === '^') into.add(value);
    if (children) collectNames(children, into);
  }
}

/**
 * The variable names a template refers to, in any of its parts (`{{x}}`, `{{{x}}}`, `{{#x}}`…), sorted. Throws
 * when a part is not valid mustache.
 *
 * @example templatePlaceholders(DEFAULT_EMAIL_TEMPLATES.statement) // ['client.firstName', 'company.name', …]
 */
export function templatePlaceholders(template: EmailTemplate): string[] {
  const names = new Set<string>();
  for (const part of [template.subject, template.html, template.text]) collectNames(writer.parse(part, TAGS) as Token[], names);
  return [...names].sort();
}

const KIB = 1024;

function validTemplate(part: string, context: z.core.$RefinementCtx<string>): void {
  const problem = syntaxProblem(part);
  if (problem) context.addIssue({ code: 'custom', message: `Not a valid template: ${problem}` });
}

/** A template edit (`PUT /v1/email-templates/{name}`): all three parts, each valid mustache, within size limits. */
export const emailTemplateSchema = z.strictObject({
  subject: z
    .string()
    .max(1000, { abort: true })
    .refine((value) => value.trim().length > 0, 'Subject must not be blank')
    .refine((value) => !/[\r\n]/.test(value), 'Subject must be one line')
    .superRefine(validTemplate),
  html: z
    .string()
    .refine((value) => value.trim().length > 0, 'HTML must not be blank')
    .refine((value) => Buffer.byteLength(value, 'utf8') <= 512 * KIB, { message: 'HTML must be at most 512 KiB', abort: true })
    .superRefine(validTemplate),
  // May be empty: the text part is then derived from the HTML.
  text: z
    .string()
    .refine((value) => Buffer.byteLength(value, 'utf8') <= 100 * KIB, { message: 'Text must be at most 100 KiB', abort: true })
    .superRefine(validTemplate),
});

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;', '=': '&#61;', '/': '&#47;' };
const escapeHtmlValue = (value: string) => value.replace(/[&<>"'`=/]/g, (character) => HTML_ESCAPES[character]);
const asIs = (value: string) => value;

const MAX_DEPTH = 8;

/**
 * The view mustache renders from: only own data (null-prototype objects, so `{{constructor}}` or `{{toString}}`
 * find nothing), no functions, and every text value passed through `escapeText` up front. Escaping the values rather
 * than relying on mustache's escaping covers `{{{x}}}` and `{{& x}}` too.
 */
function toView(value: TemplateValue, escapeText: (text: string) => string, depth = 0): unknown {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return escapeText(value);
  if (typeof value === 'number') return escapeText(String(value));
  if (typeof value === 'boolean') return value;
  if (depth >= MAX_DEPTH) return undefined;
  if (Array.isArray(value)) return value.map((item) => toView(item, escapeText, depth + 1));
  const view: Record<string, unknown> = Object.create(null);
  for (const [key, item] of Object.entries(value)) {
    const converted = toView(item as TemplateValue, escapeText, depth + 1);
    if (converted !== undefined) view[key] = converted;
  }
  return view;
}

function renderPart(part: string, variables: TemplateVariables, escapeText: (text: string) => string): string {
  // Values are escaped in the view already, so mustache itself must not escape again; no partials are offered.
  return writer.render(part, toView(variables, escapeText), {}, { tags: TAGS, escape: asIs });
}

/**
 * The HTML sanitiser (`sanitize.ts`). It is handed in rather than imported: it is the largest library most API
 * functions carry (sanitize-html with its HTML and CSS parsers), so `functions/email/notify.ts` loads it only when it
 * composes a mail, not at every cold start of every function that names a template.
 */
export interface HtmlSanitizer {
  sanitizeEmailHtml(html: string): string;
  htmlToText(html: string): string;
}

/**
 * Renders a template with the given variables. In the HTML every value is HTML-escaped and the result is
 * sanitised (a company's template is not trusted to be safe); the subject and text are rendered without escaping,
 * and the subject is kept to one line. Unknown or missing variables render as empty text. An empty text part is
 * derived from the rendered HTML. Throws when a part is not valid mustache (`emailTemplateSchema` rejects those).
 *
 * @example renderTemplate(DEFAULT_EMAIL_TEMPLATES.invoice_delivery, { client: { firstName: 'Ada' }, invoice: { number: 42 } }, await import('./sanitize.js'))
 */
export function renderTemplate(template: EmailTemplate, variables: TemplateVariables, sanitizer: HtmlSanitizer): RenderedEmail {
  const html = sanitizer.sanitizeEmailHtml(renderPart(template.html, variables, escapeHtmlValue));
  const text = template.text.trim() ? renderPart(template.text, variables, asIs) : sanitizer.htmlToText(html);
  const subject = renderPart(template.subject, variables, asIs).replace(/\s+/g, ' ').trim();
  return { subject, html, text };
}

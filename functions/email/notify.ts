import type { EmailAttachment } from '../adapters/mailer/port.js';
import { createSetPasswordLink } from '../clients/login-details.js';
import { count, METRIC } from '../observability/metrics.js';
import type { Client } from '../domain/client.js';
import {
  DEFAULT_EMAIL_TEMPLATES,
  renderTemplate,
  templatePlaceholders,
  type EmailTemplate,
  type EmailTemplateName,
  type TemplateVariables,
} from '../domain/email/templates.js';
import { newId } from '../domain/ids.js';
import { formatMoney } from '../domain/money.js';
import { RuleViolationError, ValidationError } from '../domain/errors.js';
import { logger } from '../observability/logger.js';
import { getServices } from '../services.js';
import { listContacts, type Actor } from '../store/client-records.js';
import { getClient } from '../store/clients.js';
import type { Company } from '../domain/company.js';
import { requireCompany } from '../store/companies.js';
import type { TransactItem } from '../store/dynamo.js';
import { nowIso } from '../store/items.js';
import {
  createMailEntry,
  getCompanyTemplate,
  getMailEntry,
  markMailFailed,
  markMailSent,
  suppressedAmong,
  type MailContent,
  type MailEntry,
} from '../store/mail.js';

/**
 * The one path every email Billow sends takes: recipients resolved by the rules of the contract, the HTML
 * sanitised once (what is sent is what is stored), a mail-log entry written `queued` before the provider is called
 * and then `sent` with its message id (or `failed` with the reason), so a crash never loses the record.
 */

/** The sender: `BILLOW_MAIL_FROM` (a verified SES identity in AWS), shown with the company's name. */
export function mailFromAddress(): string {
  return process.env.BILLOW_MAIL_FROM || 'billing@billow.local';
}

function sender(companyName: string | undefined): string {
  const address = mailFromAddress();
  if (address.includes('<')) return address;
  const name = (companyName ?? '').replace(/["\\\r\n<>]/g, '').trim();
  return name ? `"${name}" <${address}>` : address;
}

/** The base of links in mail (`BILLOW_APP_URL`), as for set-password links. */
function appUrl(): string {
  return (process.env.BILLOW_APP_URL ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
}

export function loginUrl(): string {
  return process.env.BILLOW_LOGIN_URL || `${appUrl()}/login`;
}

export interface SendClientEmailInput {
  companyId: string;
  /** The company, when the caller has read it already (read here otherwise). */
  company?: Company;
  client: Client;
  /** The template to render (the company's version, else the default). Null/absent for manual mail. */
  template?: EmailTemplateName;
  /** That template's text, when the caller has read it already (read here otherwise). */
  templateText?: EmailTemplate;
  variables?: TemplateVariables;
  /** Given parts take the place of the rendered ones (manual mail, re-sends). */
  subject?: string;
  html?: string;
  text?: string;
  /** Explicit recipients; with `contactIds`, the union of both replaces the defaults. */
  to?: string[];
  cc?: string[];
  contactIds?: string[];
  attachments?: EmailAttachment[];
  /** Automatic mail is not sent to inactive or fraud clients, nor to suppressed addresses. */
  automatic: boolean;
  /**
   * The client was read by this request (its status is current): automatic mail does not read it again. Without it
   * automatic mail reads the client afresh (a run may hold a client read before its status changed).
   */
  clientFresh?: boolean;
  /** Billing mail goes to the client's billing contacts, or to the client when it has none. */
  billing: boolean;
  resentFrom?: string;
  actor: Actor;
  /**
   * Written with the mail-log entry, before the provider is called (the automation's once-marker): if its condition
   * fails nothing is recorded or sent (`AlreadyDoneError`). A crash after the entry is written leaves it `queued` and
   * unsent rather than sent twice: automatic notices are at most once.
   */
  alsoWrite?: readonly TransactItem[];
  /** What the request read already to resolve billing mail's recipients (a payment, with its other reads). */
  knownRecipients?: KnownRecipients;
}

export interface ContactRow {
  id: string;
  type: string;
  email: string | null;
}

/**
 * The recipients' reads of a billing mail made ahead of it, by a request that folds them into its own reads (a
 * payment: the contacts next to its first read, the suppressions in its ledger's batch), so the mail reads neither.
 */
export interface KnownRecipients {
  /** Every contact of the client. */
  contacts: readonly ContactRow[];
  /** The addresses (lower case) whose suppression was read, and those of them found suppressed. */
  checked: ReadonlySet<string>;
  suppressed: ReadonlySet<string>;
}

/** Every contact of a client (their id, type and address): what billing mail's recipients are resolved from. */
export async function clientContacts(companyId: string, clientId: string): Promise<ContactRow[]> {
  const contacts: ContactRow[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await listContacts(companyId, clientId, 100, startKey);
    contacts.push(...page.items);
    startKey = page.lastKey;
  } while (startKey);
  return contacts;
}

/** Trimmed, without blanks, each address once (compared case-insensitively, first spelling kept). */
function distinct(addresses: Iterable<string | null | undefined>, except: ReadonlySet<string> = new Set()): string[] {
  const seen = new Set(except);
  const out: string[] = [];
  for (const raw of addresses) {
    const address = raw?.trim();
    if (!address || seen.has(address.toLowerCase())) continue;
    seen.add(address.toLowerCase());
    out.push(address);
  }
  return out;
}

/** Where billing mail for the client goes (its billing contacts, else itself), as a send would resolve it: for previews. */
export async function billingRecipients(companyId: string, client: Client): Promise<string[]> {
  return (await resolveRecipients({ companyId, client, billing: true })).to;
}

/** Where billing mail goes by default: the client's billing contacts, else the client itself. */
export function billingAddresses(client: Pick<Client, 'email'>, contacts: readonly ContactRow[]): string[] {
  const billing = distinct(contacts.filter((c) => c.type === 'billing').map((c) => c.email));
  return billing.length ? billing : distinct([client.email]);
}

async function resolveRecipients(
  input: Pick<SendClientEmailInput, 'companyId' | 'client' | 'billing' | 'to' | 'cc' | 'contactIds' | 'knownRecipients'>,
): Promise<{ to: string[]; cc: string[] }> {
  const { companyId, client } = input;
  const needsContacts = (input.contactIds?.length ?? 0) > 0 || (input.billing && !input.to?.length);
  const contacts = needsContacts ? (input.knownRecipients?.contacts ?? (await clientContacts(companyId, client.id))) : [];
  const byId = new Map(contacts.map((c) => [c.id, c]));
  const chosen: string[] = [];
  const errors: Array<{ path: string; message: string }> = [];
  (input.contactIds ?? []).forEach((id, index) => {
    const contact = byId.get(id);
    if (!contact) errors.push({ path: `contactIds.${index}`, message: 'No such contact of this client.' });
    else if (!contact.email) errors.push({ path: `contactIds.${index}`, message: 'This contact has no email address.' });
    else chosen.push(contact.email);
  });
  if (errors.length) throw new ValidationError(errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);

  let to: string[];
  if ((input.to?.length ?? 0) > 0 || chosen.length > 0) to = distinct([...(input.to ?? []), ...chosen]);
  else if (input.billing) to = billingAddresses(client, contacts);
  else to = distinct([client.email]);
  const cc = distinct(input.cc ?? [], new Set(to.map((a) => a.toLowerCase())));
  return { to, cc };
}

/** The template a company sends: its own version when it has one, else the default. */
export async function effectiveTemplate(companyId: string, name: EmailTemplateName): Promise<EmailTemplate> {
  const own = await getCompanyTemplate(companyId, name);
  return own ? { subject: own.subject, html: own.html, text: own.text } : DEFAULT_EMAIL_TEMPLATES[name];
}

function oneLine(subject: string): string {
  return subject.replace(/[\r\n\t]+/g, ' ').trim();
}

/** A mail ready to be recorded and sent: recipients resolved, HTML sanitised, the `queued` entry built. Nothing written. */
export interface PreparedMail {
  companyId: string;
  entry: MailEntry;
  content: MailContent;
  /** The sender, with the company's name. */
  from: string;
  automatic: boolean;
}

/**
 * Sends one email to a client (or its contacts) and records it in the client's mail log. Returns the entry, or
 * null when automatic mail is not sent (inactive or fraud client, or every recipient suppressed or missing); then
 * nothing is recorded. A manual mail with no recipient at all is a 422 (`no_recipient`). A provider failure does
 * not throw: the entry comes back `failed` with `statusReason`.
 */
export async function sendClientEmail(input: SendClientEmailInput): Promise<MailEntry | null> {
  const prepared = await prepareClientEmail(input);
  if (!prepared) return null;
  await createMailEntry(input.companyId, prepared.entry, prepared.content, input.alsoWrite);
  return deliverMail(prepared);
}

/**
 * Everything `sendClientEmail` does before it writes: for a caller that records the entry in a transaction of its own
 * (a payment's receipt commits with the payment, `mailEntryWrites`), then calls `deliverMail`. Null as for
 * `sendClientEmail` when automatic mail is not sent.
 */
export async function prepareClientEmail(input: SendClientEmailInput): Promise<PreparedMail | null> {
  const { companyId, client } = input;
  const log = { companyId, clientId: client.id, template: input.template ?? null, automatic: input.automatic };
  if (input.automatic) {
    // Read afresh unless this request just read it: a run may hold a client read before its status changed.
    const status = client.status === 'active' && !input.clientFresh ? (await getClient(companyId, client.id))?.status : client.status;
    if (status !== 'active') {
      logger.info('automatic mail not sent: client not active', { ...log, status: status ?? 'deleted' });
      return null;
    }
  }

  let { to, cc } = await resolveRecipients(input);
  if (input.automatic) {
    const known = input.knownRecipients;
    const suppressed =
      known && [...to, ...cc].every((a) => known.checked.has(a.trim().toLowerCase())) ? known.suppressed : await suppressedAmong(companyId, [...to, ...cc]);
    const skipped = [...to, ...cc].filter((a) => suppressed.has(a.toLowerCase()));
    if (skipped.length) logger.info('automatic mail: suppressed addresses skipped', { ...log, skipped: skipped.length });
    to = to.filter((a) => !suppressed.has(a.toLowerCase()));
    cc = cc.filter((a) => !suppressed.has(a.toLowerCase()));
  }
  if (to.length === 0 && cc.length > 0) [to, cc] = [cc, []];
  if (to.length === 0) {
    if (input.automatic) {
      logger.info('automatic mail not sent: no deliverable recipient', log);
      return null;
    }
    throw new RuleViolationError('The client has no email address; give the recipients in `to` or `contactIds`.', { code: 'no_recipient' });
  }

  const company = input.company ?? (await requireCompany(companyId));
  // The HTML sanitiser is loaded with the first mail a container composes, not at its cold start (`HtmlSanitizer`).
  const sanitizer = await import('../domain/email/sanitize.js');
  // Given bodies (manual mail, re-sends) are used as they are; the template is then only recorded.
  const rendered =
    input.template && input.html === undefined
      ? renderTemplate(input.templateText ?? (await effectiveTemplate(companyId, input.template)), input.variables ?? {}, sanitizer)
      : undefined;
  const subject = oneLine(input.subject ?? rendered?.subject ?? '');
  if (!subject) throw ValidationError.field('subject', 'Required.');
  const html = input.html !== undefined ? sanitizer.sanitizeEmailHtml(input.html) : (rendered?.html ?? '');
  const text = input.text ?? rendered?.text ?? sanitizer.htmlToText(html);
  if (!html.trim() && !text.trim()) throw ValidationError.field('html', 'Required.');
  const attachments = input.attachments ?? [];

  // The business clock (domain/clock.ts), like every createdAt: a mail sent by the run of a date is dated in it.
  const now = nowIso();
  const entry: MailEntry = {
    id: newId('mail'),
    clientId: client.id,
    to,
    cc,
    subject,
    template: input.template ?? null,
    status: 'queued',
    statusReason: null,
    resentFrom: input.resentFrom ?? null,
    messageId: null,
    automatic: input.automatic,
    createdBy: input.actor,
    createdAt: now,
    updatedAt: now,
  };
  return { companyId, entry, content: { html, text, attachments }, from: sender(company.name), automatic: input.automatic };
}

/**
 * Hands a prepared mail, whose `queued` entry is already written, to the provider and records the outcome on the
 * entry: `sent` with the message id, or `failed` with the reason. The entry is read back only when another writer got
 * to it first (a delivery event): otherwise what was written is known.
 */
export async function deliverMail(prepared: PreparedMail): Promise<MailEntry> {
  const { companyId, entry } = prepared;
  const log = { companyId, clientId: entry.clientId, template: entry.template, automatic: prepared.automatic, mailId: entry.id };
  let messageId: string;
  try {
    ({ messageId } = await getServices().mailer.send({
      from: prepared.from,
      to: entry.to,
      cc: entry.cc,
      subject: entry.subject,
      html: prepared.content.html,
      text: prepared.content.text,
      attachments: prepared.content.attachments,
      tags: { companyId, clientId: entry.clientId, mailId: entry.id },
    }));
  } catch (error) {
    const reason = (error as Error).message || String(error);
    logger.warn('mail not sent', { ...log, error: error as Error });
    count(METRIC.mailFailed);
    const at = nowIso();
    const marked = await markMailFailed(companyId, entry.clientId, entry.id, reason, at);
    if (marked.updated && marked.clientId === entry.clientId) return { ...entry, status: 'failed', statusReason: reason.slice(0, 1000), updatedAt: at };
    return (await getMailEntry(companyId, marked.clientId, entry.id)) ?? { ...entry, status: 'failed', statusReason: reason };
  }
  // The provider has the mail: from here a store failure must not make it look unsent (the entry stays `queued`
  // until the Send/Delivery events arrive, which also find it through its tags).
  count(METRIC.mailSent);
  const at = nowIso();
  const marked = await markMailSent(companyId, entry.clientId, entry.id, messageId, at);
  if (marked.statusSet && marked.clientId === entry.clientId) return { ...entry, status: 'sent', messageId, updatedAt: at };
  return (await getMailEntry(companyId, marked.clientId, entry.id)) ?? entry;
}

// ---------------------------------------------------------------------------------------------------------------
// Typed helpers for the emails Billow sends on its own. Each builds its template's variables (money formatted
// for the client's language) and picks the contract's flags. Options override the automatic flag for callers
// that act on a staff request (e.g. `POST /v1/invoices/{id}/deliver` passes `{ automatic: false }`).

export interface NotifyOptions {
  /** Whether the rules for automatic mail apply (inactive clients, suppressed addresses). */
  automatic?: boolean;
}

/** The invoice fields the templates use (an `invoiceView` fits). */
export interface InvoiceForEmail {
  id: string;
  number: number | null;
  currency: string;
  dateBilled: string;
  dateDue: string;
  total: number;
  due: number;
}

/** The transaction fields the templates use (a `transactionView` fits). */
export interface TransactionForEmail {
  id: string;
  amount: number;
  currency: string;
  date: string;
  method: string;
}

/** The statement fields the templates use (the statement route's body fits). */
export interface StatementForEmail {
  currency: string;
  from?: string;
  to: string;
  closingBalance: number;
}

function baseVariables(company: Company, client: Client): { client: TemplateVariables; company: TemplateVariables; loginUrl: string; username: string } {
  return {
    client: {
      number: client.number,
      firstName: client.firstName ?? client.company ?? '',
      lastName: client.lastName,
      company: client.company,
      email: client.email,
    },
    company: { name: company.name },
    loginUrl: loginUrl(),
    username: client.username ?? '',
  };
}

const money = (amount: number, currency: string, client: Client) => formatMoney(amount, currency, client.language || 'en');

function invoiceVariables(invoice: InvoiceForEmail, client: Client): TemplateVariables {
  return {
    number: invoice.number ?? invoice.id,
    dateBilled: invoice.dateBilled,
    dateDue: invoice.dateDue,
    total: money(invoice.total, invoice.currency, client),
    due: money(invoice.due, invoice.currency, client),
  };
}

const METHOD_LABELS: Record<string, string> = {
  card: 'Card',
  ach: 'Bank account (ACH)',
  check: 'Check',
  money_order: 'Money order',
  cash: 'Cash',
  wire: 'Wire transfer',
  other: 'Other',
};

/** e.g. `Visa ending 4242` when the caller knows the account; else the kind of payment. Never a full number. */
function methodLabel(transaction: TransactionForEmail, label?: string): string {
  return label ?? METHOD_LABELS[transaction.method] ?? transaction.method;
}

/** Welcome mail for a new client; when the template asks for it, a one-time set-password link is made. */
export async function sendRegistrationEmail(
  companyId: string,
  client: Client,
  actor: Actor,
  options: NotifyOptions & { setPasswordUrl?: string } = {},
): Promise<MailEntry | null> {
  const automatic = options.automatic ?? true;
  if (automatic && client.status !== 'active') return null;
  let setPasswordUrl = options.setPasswordUrl;
  let templateText: EmailTemplate | undefined;
  if (setPasswordUrl === undefined && client.username && client.userId) {
    templateText = await effectiveTemplate(companyId, 'account_registration');
    if (templatePlaceholders(templateText).includes('setPasswordUrl')) {
      setPasswordUrl = (await createSetPasswordLink(companyId, client, null)).url;
    }
  }
  const company = await requireCompany(companyId);
  const variables = { ...baseVariables(company, client), setPasswordUrl: setPasswordUrl ?? '' };
  return sendClientEmail({ companyId, company, client, template: 'account_registration', templateText, variables, automatic, billing: false, actor });
}

/** The username and a one-time set-password link (never a password). Sent on a staff request. */
export async function sendLoginDetailsEmail(
  companyId: string,
  client: Client,
  setPasswordUrl: string,
  actor: Actor,
  options: NotifyOptions = {},
): Promise<MailEntry | null> {
  const company = await requireCompany(companyId);
  const variables = { ...baseVariables(company, client), setPasswordUrl };
  return sendClientEmail({ companyId, company, client, template: 'login_details', variables, automatic: options.automatic ?? false, billing: false, actor });
}

function safeFilePart(value: string): string {
  return value.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 80);
}

/** An invoice with its PDF, to the billing contacts. Automatic by default (renewals); deliver passes `false`. */
export async function sendInvoiceEmail(
  companyId: string,
  client: Client,
  invoice: InvoiceForEmail,
  pdf: Buffer,
  actor: Actor,
  options: NotifyOptions = {},
): Promise<MailEntry | null> {
  const company = await requireCompany(companyId);
  const variables = { ...baseVariables(company, client), invoice: invoiceVariables(invoice, client) };
  const filename = `invoice-${safeFilePart(String(invoice.number ?? invoice.id))}.pdf`;
  return sendClientEmail({
    companyId,
    company,
    client,
    template: 'invoice_delivery',
    variables,
    attachments: [{ filename, contentType: 'application/pdf', content: pdf }],
    automatic: options.automatic ?? true,
    billing: true,
    actor,
  });
}

export interface PaymentNotifyOptions extends NotifyOptions {
  /** How the payment account is shown, e.g. `Visa ending 4242`. */
  paymentMethodLabel?: string;
  /** The invoice the payment was for (the declined notice names it). */
  invoice?: InvoiceForEmail;
  /**
   * What the payment's request has read already (store/client-context.ts): the company, the template's text (the
   * company's version or the default) and that the client is current, so the mail reads none of them again.
   */
  known?: { company: Company; templateText: EmailTemplate; clientFresh: boolean; recipients?: KnownRecipients };
}

/** The receipt and the declined notice: the same variables and flags, a different template. */
function paymentEmailInput(
  template: 'payment_receipt' | 'payment_declined',
  companyId: string,
  company: Company,
  client: Client,
  transaction: TransactionForEmail,
  actor: Actor,
  options: PaymentNotifyOptions,
): SendClientEmailInput {
  const variables = {
    ...baseVariables(company, client),
    payment: {
      amount: money(transaction.amount, transaction.currency, client),
      date: transaction.date,
      method: methodLabel(transaction, options.paymentMethodLabel),
      transactionId: transaction.id,
    },
    ...(options.invoice ? { invoice: invoiceVariables(options.invoice, client) } : {}),
  };
  return {
    companyId,
    company,
    client,
    template,
    templateText: options.known?.templateText,
    clientFresh: options.known?.clientFresh,
    ...(options.known?.recipients ? { knownRecipients: options.known.recipients } : {}),
    variables,
    automatic: options.automatic ?? true,
    billing: true,
    actor,
  };
}

async function sendPaymentEmail(
  template: 'payment_receipt' | 'payment_declined',
  companyId: string,
  client: Client,
  transaction: TransactionForEmail,
  actor: Actor,
  options: PaymentNotifyOptions,
): Promise<MailEntry | null> {
  const company = options.known?.company ?? (await requireCompany(companyId));
  return sendClientEmail(paymentEmailInput(template, companyId, company, client, transaction, actor, options));
}

/**
 * A receipt prepared but not written (`prepareClientEmail`): a payment records its entry in the transaction that
 * records the payment, then delivers it (`deliverMail`). Null when no receipt is sent (as `sendPaymentReceipt`).
 */
export async function preparePaymentReceipt(
  companyId: string,
  client: Client,
  transaction: TransactionForEmail,
  actor: Actor,
  options: PaymentNotifyOptions & { known: NonNullable<PaymentNotifyOptions['known']> },
): Promise<PreparedMail | null> {
  return prepareClientEmail(paymentEmailInput('payment_receipt', companyId, options.known.company, client, transaction, actor, options));
}

/** A receipt for a payment, to the billing contacts. */
export async function sendPaymentReceipt(
  companyId: string,
  client: Client,
  transaction: TransactionForEmail,
  actor: Actor,
  options: PaymentNotifyOptions = {},
): Promise<MailEntry | null> {
  return sendPaymentEmail('payment_receipt', companyId, client, transaction, actor, options);
}

/** A declined charge, to the billing contacts. */
export async function sendPaymentDeclined(
  companyId: string,
  client: Client,
  transaction: TransactionForEmail,
  actor: Actor,
  options: PaymentNotifyOptions = {},
): Promise<MailEntry | null> {
  return sendPaymentEmail('payment_declined', companyId, client, transaction, actor, options);
}

/** A statement with its PDF, to the billing contacts. Sent on a staff request by default. */
export async function sendStatementEmail(
  companyId: string,
  client: Client,
  statement: StatementForEmail,
  pdf: Buffer,
  actor: Actor,
  options: NotifyOptions = {},
): Promise<MailEntry | null> {
  const company = await requireCompany(companyId);
  const variables = {
    ...baseVariables(company, client),
    statement: { date: statement.to, closingBalance: money(statement.closingBalance, statement.currency, client) },
  };
  return sendClientEmail({
    companyId,
    company,
    client,
    template: 'statement',
    variables,
    attachments: [{ filename: `statement-${safeFilePart(statement.to)}.pdf`, contentType: 'application/pdf', content: pdf }],
    automatic: options.automatic ?? false,
    billing: true,
    actor,
  });
}

export interface AutomationNotifyOptions {
  /** The once-marker(s) the mail-log entry commits with (see `SendClientEmailInput.alsoWrite`). */
  alsoWrite?: readonly TransactItem[];
  /** How the auto-debit account is shown, e.g. `Visa ending 4242`. */
  paymentMethodLabel?: string;
  /** `auto_debit_pending`: the date the charge will be taken. */
  autoDebitDate?: string;
}

/** A payment notice of the daily run (`late_notice_*`, `auto_debit_pending`) for one invoice, to the billing contacts. */
export async function sendInvoiceNotice(
  companyId: string,
  client: Client,
  template: 'late_notice_first' | 'late_notice_second' | 'late_notice_third' | 'auto_debit_pending',
  invoice: InvoiceForEmail,
  actor: Actor,
  options: AutomationNotifyOptions = {},
): Promise<MailEntry | null> {
  const company = await requireCompany(companyId);
  const variables = {
    ...baseVariables(company, client),
    invoice: invoiceVariables(invoice, client),
    payment: { method: options.paymentMethodLabel ?? '' },
    autoDebit: { date: options.autoDebitDate ?? invoice.dateDue },
  };
  return sendClientEmail({ companyId, company, client, template, variables, automatic: true, billing: true, actor, alsoWrite: options.alsoWrite });
}

/** Auto-debit was turned off after repeated declines: to the billing contacts. */
export async function sendAutoDebitDisabled(companyId: string, client: Client, actor: Actor, options: AutomationNotifyOptions = {}): Promise<MailEntry | null> {
  const company = await requireCompany(companyId);
  const variables = { ...baseVariables(company, client), payment: { method: options.paymentMethodLabel ?? '' } };
  return sendClientEmail({
    companyId,
    company,
    client,
    template: 'auto_debit_disabled',
    variables,
    automatic: true,
    billing: true,
    actor,
    alsoWrite: options.alsoWrite,
  });
}

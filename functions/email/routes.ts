import { companyOf } from '../domain/principal.js';
import { clientListRoute } from '../clients/list-route.js';
import * as z from 'zod';
import {
  DEFAULT_EMAIL_TEMPLATES,
  EMAIL_TEMPLATE_NAMES,
  EMAIL_TEMPLATE_VARIABLES,
  emailTemplateSchema,
  isEmailTemplateName,
  type EmailTemplateName,
} from '../domain/email/templates.js';
import { actorOf } from '../domain/activity.js';
import { decodeCursor, encodeCursor, listQuery } from '../http/cursor.js';
import { ConflictError, NotFoundError } from '../domain/errors.js';
import { json, noContent, route, type Principal } from '../http/route.js';
import { email, idParam, requiredText } from '../http/schemas.js';
import { readClientContext } from '../store/client-context.js';
import { parseIfMatch } from '../store/items.js';
import {
  deleteCompanyTemplate,
  getCompanyTemplate,
  getMail,
  listCompanyTemplates,
  listMailEntries,
  putCompanyTemplate,
  type MailEntry,
  type StoredTemplate,
} from '../store/mail.js';
import { applyChange } from '../store/retry.js';
import { sendClientEmail } from './notify.js';
import { emailTemplateListSchema, emailTemplateViewSchema, mailEntrySchema, mailSchema } from './response-schemas.js';

const STAFF = ['staff'] as const;
const STAFF_AND_CLIENT = ['staff', 'client'] as const;

const KIB = 1024;
/** SES takes at most 50 recipients per message. */
const MAX_RECIPIENTS = 50;
const utf8Bytes = (value: string) => Buffer.byteLength(value, 'utf8');

export const sendEmailBody = z
  .strictObject({
    to: z.array(email).max(MAX_RECIPIENTS).optional(),
    contactIds: z.array(z.string().min(1).max(100)).max(MAX_RECIPIENTS).optional(),
    cc: z.array(email).max(MAX_RECIPIENTS).optional(),
    subject: requiredText(1000).refine((value) => !/[\r\n]/.test(value), 'Must be one line.'),
    html: z
      .string()
      .refine((value) => utf8Bytes(value) <= 512 * KIB, { message: 'Must be at most 512 KiB.', abort: true })
      .refine((value) => value.trim().length > 0, 'Required.'),
    text: z
      .string()
      .refine((value) => utf8Bytes(value) <= 512 * KIB, 'Must be at most 512 KiB.')
      .optional(),
  })
  .superRefine((body, context) => {
    if ((body.to?.length ?? 0) + (body.contactIds?.length ?? 0) + (body.cc?.length ?? 0) > MAX_RECIPIENTS) {
      context.addIssue({ code: 'custom', path: ['to'], message: `At most ${MAX_RECIPIENTS} recipients in all (to, contactIds and cc).` });
    }
  });

export const resendBody = z.strictObject({ to: z.array(email).min(1).max(MAX_RECIPIENTS).optional() });

const templateParams = z.object({ name: z.string().min(1).max(100) });

/** A mail-log entry as the API shows it. */
export function mailEntryView(entry: MailEntry) {
  return {
    id: entry.id,
    clientId: entry.clientId,
    to: entry.to,
    cc: entry.cc,
    subject: entry.subject,
    template: entry.template,
    status: entry.status,
    statusReason: entry.statusReason,
    resentFrom: entry.resentFrom,
    messageId: entry.messageId,
    automatic: entry.automatic,
    createdAt: entry.createdAt,
    updatedAt: entry.updatedAt,
  };
}

function templateView(name: EmailTemplateName, own: StoredTemplate | undefined) {
  const template = own ?? DEFAULT_EMAIL_TEMPLATES[name];
  return {
    name,
    subject: template.subject,
    html: template.html,
    text: template.text,
    /** True when the company has its own version; false for the default. */
    custom: own !== undefined,
    variables: EMAIL_TEMPLATE_VARIABLES[name],
    version: own?.version ?? 0,
    updatedAt: own?.updatedAt ?? null,
  };
}

/** Manual mail is never skipped: sendClientEmail returns null only for automatic mail. */
function sentManually(entry: MailEntry | null): MailEntry {
  if (!entry) throw new Error('sendClientEmail skipped a manual mail (it skips only automatic mail).');
  return entry;
}

function templateName(name: string): EmailTemplateName {
  if (!isEmailTemplateName(name)) throw new NotFoundError(`No email template named '${name}'.`);
  return name;
}

/** A mail of the caller's company that the caller may see (a client token: only its own), else 404. */
async function visibleMail(principal: Principal | null, mailId: string) {
  const mail = await getMail(companyOf(principal), mailId);
  if (!mail || (principal?.role === 'client' && principal.clientId !== mail.entry.clientId)) throw new NotFoundError('No such email.');
  return mail;
}

export const emailRoutes = [
  route({
    method: 'POST',
    path: '/v1/clients/{id}/emails',
    area: 'email',
    access: STAFF,
    summary: 'Send an email to a client (default recipient: the client; HTML is sanitised before it is sent and stored)',
    tags: ['Email'],
    params: idParam,
    body: sendEmailBody,
    successStatus: 201,
    response: mailEntrySchema,
    handle: async ({ principal, params, body }) => {
      const companyId = companyOf(principal);
      // The client and the company (the sender's name) in one read.
      const { client, company } = await readClientContext(companyId, params.id);
      const entry = await sendClientEmail({
        companyId,
        company,
        client,
        subject: body.subject,
        html: body.html,
        text: body.text,
        to: body.to,
        cc: body.cc,
        contactIds: body.contactIds,
        automatic: false,
        billing: false,
        actor: actorOf(principal),
      });
      return json(201, mailEntryView(sentManually(entry)));
    },
  }),
  clientListRoute<MailEntry>({
    path: '/v1/clients/{id}/emails',
    area: 'email',
    access: STAFF_AND_CLIENT,
    summary: "A client's mail log, newest first",
    tags: ['Email'],
    itemSchema: mailEntrySchema,
    read: listMailEntries,
    view: mailEntryView,
  }),
  route({
    method: 'GET',
    path: '/v1/emails/{id}',
    area: 'email',
    access: STAFF_AND_CLIENT,
    summary: 'An email with its HTML, text and attachment list',
    tags: ['Email'],
    response: mailSchema,
    params: idParam,
    handle: async ({ principal, params }) => {
      const mail = await visibleMail(principal, params.id);
      const content = await mail.content();
      return json(200, { ...mailEntryView(mail.entry), html: content.html, text: content.text, attachments: mail.attachments });
    },
  }),
  route({
    method: 'POST',
    path: '/v1/emails/{id}/resend',
    area: 'email',
    access: STAFF,
    summary: 'Send an email again (to its recipients, or to `to`), attachments included; a new entry with `resentFrom`',
    tags: ['Email'],
    params: idParam,
    body: resendBody,
    successStatus: 201,
    response: mailEntrySchema,
    handle: async ({ principal, params, body }) => {
      const companyId = companyOf(principal);
      const mail = await visibleMail(principal, params.id);
      const [{ client, company }, content] = await Promise.all([readClientContext(companyId, mail.entry.clientId), mail.content()]);
      const entry = await sendClientEmail({
        companyId,
        company,
        client,
        template: mail.entry.template ?? undefined,
        subject: mail.entry.subject,
        html: content.html,
        text: content.text,
        attachments: content.attachments,
        to: body.to ?? mail.entry.to,
        cc: body.to ? [] : mail.entry.cc,
        automatic: false,
        billing: false,
        resentFrom: mail.entry.id,
        actor: actorOf(principal),
      });
      return json(201, mailEntryView(sentManually(entry)));
    },
  }),
  route({
    method: 'GET',
    path: '/v1/email-templates',
    area: 'email',
    access: STAFF,
    summary: "The company's email templates (its own versions, else the defaults)",
    tags: ['Email'],
    response: emailTemplateListSchema,
    query: listQuery,
    handle: async ({ principal, query }) => {
      const companyId = companyOf(principal);
      const scope = `${companyId}|email-templates`;
      const start = await decodeCursor(scope, query.cursor);
      const after = typeof start?.after === 'string' ? EMAIL_TEMPLATE_NAMES.indexOf(start.after as EmailTemplateName) + 1 : 0;
      const own = await listCompanyTemplates(companyId);
      const names = EMAIL_TEMPLATE_NAMES.slice(after, after + query.limit);
      const more = after + names.length < EMAIL_TEMPLATE_NAMES.length;
      return json(200, {
        data: names.map((name) => templateView(name, own.get(name))),
        nextCursor: more ? await encodeCursor(scope, { after: names[names.length - 1] }) : null,
      });
    },
  }),
  route({
    method: 'GET',
    path: '/v1/email-templates/{name}',
    area: 'email',
    access: STAFF,
    summary: 'One email template',
    tags: ['Email'],
    response: emailTemplateViewSchema,
    params: templateParams,
    handle: async ({ principal, params }) => {
      const name = templateName(params.name);
      return json(200, templateView(name, await getCompanyTemplate(companyOf(principal), name)));
    },
  }),
  route({
    method: 'PUT',
    path: '/v1/email-templates/{name}',
    area: 'email',
    access: STAFF,
    summary: "Replace the company's version of a template (mustache: subject, html, text; empty text is derived from the HTML)",
    tags: ['Email'],
    response: emailTemplateViewSchema,
    params: templateParams,
    body: emailTemplateSchema,
    handle: async ({ principal, params, body, headers }) => {
      const name = templateName(params.name);
      const expectedVersion = parseIfMatch(headers['if-match']);
      const saved = await applyChange(expectedVersion, async () => {
        const result = await putCompanyTemplate(companyOf(principal), name, body, expectedVersion);
        if (result === 'stale') throw new ConflictError('The template was changed by another request; read it again.', { code: 'stale_version' });
        return result;
      });
      return json(200, templateView(name, saved));
    },
  }),
  route({
    method: 'DELETE',
    path: '/v1/email-templates/{name}',
    area: 'email',
    access: STAFF,
    summary: "Drop the company's version of a template: the default applies again",
    tags: ['Email'],
    params: templateParams,
    successStatus: 204,
    handle: async ({ principal, params }) => {
      await deleteCompanyTemplate(companyOf(principal), templateName(params.name));
      return noContent();
    },
  }),
];

import * as z from 'zod';
import { EMAIL_TEMPLATE_NAMES } from '../domain/email/templates.js';
import { listOf, timestamp } from '../http/schemas.js';
import { MAIL_STATUSES } from '../store/mail.js';

/** What the API answers about mail and templates (the views in routes.ts). */

export const mailEntrySchema = z
  .strictObject({
    id: z.string(),
    clientId: z.string(),
    to: z.array(z.string()),
    cc: z.array(z.string()),
    subject: z.string(),
    template: z.enum(EMAIL_TEMPLATE_NAMES).nullable(),
    status: z.enum(MAIL_STATUSES),
    statusReason: z.string().nullable(),
    resentFrom: z.string().nullable(),
    messageId: z.string().nullable(),
    automatic: z.boolean(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'MailEntry' });

export const mailEntryListSchema = listOf(mailEntrySchema);

export const mailSchema = mailEntrySchema
  .extend({
    html: z.string(),
    text: z.string(),
    attachments: z.array(z.strictObject({ filename: z.string(), contentType: z.string(), size: z.number().int() })),
  })
  .meta({ id: 'Mail' });

export const emailTemplateViewSchema = z
  .strictObject({
    name: z.enum(EMAIL_TEMPLATE_NAMES),
    subject: z.string(),
    html: z.string(),
    text: z.string(),
    custom: z.boolean().meta({ description: "True when the company has its own version; false for Billow's default." }),
    variables: z.array(z.string()),
    version: z.number().int().min(0).meta({ description: '0 for the default.' }),
    updatedAt: timestamp.nullable(),
  })
  .meta({ id: 'EmailTemplate' });

export const emailTemplateListSchema = listOf(emailTemplateViewSchema);

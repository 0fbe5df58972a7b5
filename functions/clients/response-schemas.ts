import * as z from 'zod';
import { acceptedWith, balanceRowSchema, contactDetailsShape, listOf, timestamp, version } from '../http/schemas.js';

/** What the API answers about clients, contacts and notes (the views in client-view.ts and the route files). */

const balanceRowsSchema = z.strictObject({ data: z.array(balanceRowSchema) });

export const clientViewSchema = z
  .strictObject({
    id: z.string(),
    number: z.number().int().meta({ description: 'Unique within the company; assigned on create unless given.' }),
    status: z.enum(['active', 'inactive', 'fraud']),
    groupId: z.string(),
    group: z.strictObject({ id: z.string(), name: z.string() }).nullable(),
    ...contactDetailsShape,
    defaultFax: z.string().nullable(),
    taxExempt: z.boolean(),
    taxId: z.string().nullable(),
    currency: z.string(),
    username: z.string().nullable(),
    hasLogin: z.boolean(),
    language: z.string(),
    marketingOptIn: z.boolean(),
    customFields: z.record(z.string(), z.string()),
    autoDebitAccountId: z.string().nullable(),
    emailSuppressed: z.boolean().meta({ description: 'A hard bounce or complaint stopped automatic mail to this address.' }),
    createdAt: timestamp,
    updatedAt: timestamp,
    version,
  })
  .meta({ id: 'Client', description: 'A client as lists show it.' });

const CLIENT_EXAMPLE = {
  id: 'cli_01JE7X3Q8ZK2M4N6P8R0T2V4X6',
  number: 1500,
  status: 'active',
  groupId: 'grp_01JE7X1A2B3C4D5E6F7G8H9J0K',
  group: { id: 'grp_01JE7X1A2B3C4D5E6F7G8H9J0K', name: 'General' },
  firstName: 'Ada',
  lastName: 'Lovelace',
  company: 'Analytical Engines Ltd',
  title: null,
  address1: '12 St James Square',
  address2: null,
  city: 'London',
  country: 'GB',
  state: null,
  zip: 'SW1Y 4JH',
  email: 'ada@example.com',
  phones: [{ type: 'phone', location: 'work', number: '+44 20 7946 0000 ext 7' }],
  defaultFax: null,
  taxExempt: false,
  taxId: null,
  currency: 'GBP',
  username: 'ada',
  hasLogin: true,
  language: 'en',
  marketingOptIn: false,
  customFields: {},
  autoDebitAccountId: null,
  emailSuppressed: false,
  createdAt: '2026-01-05T09:30:00.000Z',
  updatedAt: '2026-01-05T09:30:00.000Z',
  version: 1,
};

export const stickyNoteSchema = z.strictObject({
  id: z.string(),
  summary: z.string(),
  details: z.string().nullable(),
  sticky: z.literal(true),
  createdAt: timestamp,
  updatedAt: timestamp,
  version,
});

export const clientProfileSchema = clientViewSchema
  .extend({
    summary: balanceRowsSchema.meta({ description: "Per currency, the client's own first." }),
    stickyNotes: z.array(stickyNoteSchema).optional().meta({ description: 'Staff only.' }),
  })
  .meta({
    id: 'ClientProfile',
    description: 'A client profile: the client with its balance summary (and its sticky notes, for staff).',
    examples: [{ ...CLIENT_EXAMPLE, summary: { data: [{ currency: 'GBP', invoiced: 12000, paid: 2000, due: 10000, credit: 0 }] }, stickyNotes: [] }],
  });

export const createdClientSchema = clientProfileSchema.extend({
  generatedPassword: z.string().optional().meta({ description: 'Shown once, when Billow made up the password; never on a replay.' }),
});

export const clientListSchema = listOf(clientViewSchema);

const bulkFailureSchema = z.strictObject({ status: z.number().int(), code: z.string(), detail: z.string() });
export const bulkResultSchema = z.strictObject({
  results: z.array(
    z.union([z.strictObject({ id: z.string(), ok: z.literal(true) }), z.strictObject({ id: z.string(), ok: z.literal(false), error: bulkFailureSchema })]),
  ),
});

export const clientSummarySchema = balanceRowsSchema;

export const activityEntrySchema = z
  .strictObject({
    at: timestamp,
    actor: z.strictObject({ type: z.enum(['staff', 'client', 'operator', 'system']), id: z.string() }),
    action: z.string(),
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'ActivityEntry' });

export const contactSchema = z
  .strictObject({
    id: z.string(),
    type: z.string().meta({ description: '`billing`, `technical` or one of the company\u2019s contact types.' }),
    ...contactDetailsShape,
    createdAt: timestamp,
    updatedAt: timestamp,
    version,
    clientId: z.string(),
  })
  .meta({ id: 'Contact' });

export const noteSchema = z
  .strictObject({
    id: z.string(),
    clientId: z.string(),
    summary: z.string(),
    details: z.string().nullable(),
    sticky: z.boolean(),
    createdBy: z.string(),
    createdAt: timestamp,
    updatedAt: timestamp,
    version,
  })
  .meta({ id: 'Note' });

export const loginDetailsSentSchema = acceptedWith({ expiresAt: timestamp.meta({ description: 'When the set-password link stops working (72 h).' }) });

import * as z from 'zod';
import { acceptedWith, calendarDate, contactDetailsShape, listOf, minorUnits, timestamp, version } from '../http/schemas.js';

/** What the API answers about invoices, payments, payment accounts, credits and statements (the views in domain/). */

const quantity = z.string().meta({ description: 'Exactly as given: a decimal ("1.5", "-1") or a fraction ("55/60").' });

const invoiceLineSchema = z.strictObject({
  id: z.string(),
  description: z.string(),
  quantity,
  unitAmount: minorUnits,
  amount: minorUnits.meta({ description: 'quantity × unitAmount, rounded half away from zero.' }),
  taxable: z.boolean(),
  tax: minorUnits,
});

export const invoiceSchema = z
  .strictObject({
    id: z.string(),
    number: z.number().int().nullable().meta({ description: 'Assigned when the invoice opens; null on a draft.' }),
    clientId: z.string(),
    currency: z.string(),
    status: z.enum(['draft', 'open', 'paid', 'void']),
    dateBilled: calendarDate,
    dateDue: calendarDate,
    lines: z.array(invoiceLineSchema),
    taxRate: z.strictObject({ id: z.string(), name: z.string(), percent: z.string() }).nullable(),
    subtotal: minorUnits,
    tax: minorUnits,
    total: minorUnits,
    paid: minorUnits,
    due: minorUnits,
    recurringInvoiceId: z.string().nullable(),
    createdAt: timestamp,
    updatedAt: timestamp,
    version,
  })
  .meta({
    id: 'Invoice',
    description: 'An invoice. Amounts are integer minor units of `currency`.',
    examples: [
      {
        id: 'inv_01JE7Y0M4Q6S8U0W2Y4A6C8E0G',
        number: 1042,
        clientId: 'cli_01JE7X3Q8ZK2M4N6P8R0T2V4X6',
        currency: 'USD',
        status: 'open',
        dateBilled: '2026-02-01',
        dateDue: '2026-02-15',
        lines: [
          { id: 'lin_01JE7Y0M4Q6S8U0W2Y4A6C8E0H', description: 'Consulting', quantity: '55/60', unitAmount: 12000, amount: 11000, taxable: true, tax: 880 },
        ],
        taxRate: { id: 'tax_01JE7W9K2M4P6R8T0V2X4Z6B8D', name: 'Sales tax', percent: '8' },
        subtotal: 11000,
        tax: 880,
        total: 11880,
        paid: 0,
        due: 11880,
        recurringInvoiceId: null,
        createdAt: '2026-02-01T10:00:00.000Z',
        updatedAt: '2026-02-01T10:00:00.000Z',
        version: 1,
      },
    ],
  });

export const invoiceListSchema = listOf(invoiceSchema);

export const transactionSchema = z
  .strictObject({
    id: z.string(),
    clientId: z.string(),
    kind: z.enum(['charge', 'offline']),
    method: z.enum(['card', 'ach', 'check', 'money_order', 'cash', 'wire', 'other']),
    amount: minorUnits,
    currency: z.string(),
    status: z.enum(['pending', 'succeeded', 'declined', 'failed', 'voided', 'refunded', 'partially_refunded']),
    applications: z.array(z.strictObject({ invoiceId: z.string(), amount: minorUnits })),
    credit: minorUnits.meta({ description: 'The part not applied to an invoice, kept as credit.' }),
    refunded: minorUnits,
    paymentAccountId: z.string().nullable(),
    reference: z.string().nullable(),
    declineCode: z.string().nullable(),
    livemode: z.boolean().meta({
      description: 'False when the money moved through the simulated gateway (locally, or in AWS deployed with `gateway=simulator`), true through a real one.',
    }),
    date: calendarDate,
    createdAt: timestamp,
    updatedAt: timestamp,
    version,
  })
  .meta({
    id: 'Transaction',
    description: 'A payment or payment attempt. Amounts are integer minor units of `currency`.',
    examples: [
      {
        id: 'txn_01JE7Z2B4D6F8H0K2M4P6R8T0V',
        clientId: 'cli_01JE7X3Q8ZK2M4N6P8R0T2V4X6',
        kind: 'charge',
        method: 'card',
        amount: 15000,
        currency: 'USD',
        status: 'succeeded',
        applications: [{ invoiceId: 'inv_01JE7Y0M4Q6S8U0W2Y4A6C8E0G', amount: 11880 }],
        credit: 3120,
        refunded: 0,
        paymentAccountId: 'pa_01JE7Z0A2C4E6G8J0L2N4Q6S8U',
        reference: null,
        declineCode: null,
        livemode: true,
        date: '2026-02-03',
        createdAt: '2026-02-03T14:12:00.000Z',
        updatedAt: '2026-02-03T14:12:00.000Z',
        version: 1,
      },
    ],
  });

export const transactionListSchema = listOf(transactionSchema);

export const paymentAccountSchema = z
  .strictObject({
    id: z.string(),
    clientId: z.string(),
    type: z.enum(['card', 'ach']),
    brand: z.enum(['visa', 'mastercard', 'amex', 'discover', 'jcb', 'diners', 'unknown', 'ach']),
    last4: z.string(),
    expMonth: z.number().int().nullable(),
    expYear: z.number().int().nullable(),
    accountType: z.enum(['checking', 'savings']).nullable(),
    status: z.enum(['active', 'disabled']),
    autoDebit: z.boolean(),
    contact: z.strictObject(contactDetailsShape).partial(),
    createdAt: timestamp,
    updatedAt: timestamp,
    version,
  })
  .meta({ id: 'PaymentAccount' });

export const paymentAccountListSchema = listOf(paymentAccountSchema);

export const recurringInvoiceSchema = z
  .strictObject({
    id: z.string(),
    clientId: z.string(),
    currency: z.string(),
    lines: z.array(z.strictObject({ description: z.string(), quantity, unitAmount: minorUnits, taxable: z.boolean() })),
    term: z.number().int(),
    period: z.enum(['day', 'week', 'month', 'year']),
    occurrences: z.number().int().nullable().meta({ description: 'Invoices in the series in all; null: until stopped.' }),
    created: z.number().int(),
    nextBillDate: calendarDate.nullable(),
    dueAfterDays: z.number().int(),
    status: z.enum(['active', 'completed']),
    createdAt: timestamp,
    updatedAt: timestamp,
    version,
  })
  .meta({ id: 'RecurringInvoice' });

export const recurringInvoiceListSchema = listOf(recurringInvoiceSchema);

export const statementSchema = z
  .strictObject({
    currency: z.string(),
    from: calendarDate,
    to: calendarDate,
    openingBalance: minorUnits,
    lines: z.array(
      z.strictObject({
        date: calendarDate,
        type: z.enum(['invoice', 'payment', 'refund', 'void', 'credit']),
        reference: z.string(),
        description: z.string(),
        amount: minorUnits,
        balance: minorUnits,
        livemode: z.boolean().optional().meta({
          description:
            'On the lines of a transaction (its payment, refunds and void): false when its money moved through the simulated gateway, true through a real one. Invoice lines have none.',
        }),
      }),
    ),
    closingBalance: minorUnits,
  })
  .meta({ id: 'Statement' });

export const creditsSchema = z.strictObject({ data: z.array(z.strictObject({ currency: z.string(), amount: minorUnits })) });

export const appliedCreditsSchema = z.strictObject({ applied: z.array(z.strictObject({ invoiceId: z.string(), amount: minorUnits })) });

/** A mail was queued (an invoice or a statement); `mailId` names its mail-log entry. */
export const mailQueuedSchema = acceptedWith({ mailId: z.string() });

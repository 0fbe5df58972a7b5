import * as z from 'zod';
import { MAX_INVOICE_AMOUNT } from '../domain/invoice-pricing.js';
import { readQuantity } from '../domain/quantity.js';
import { MAX_OCCURRENCES, MAX_RECURRENCE_TERM, RECURRENCE_PERIODS } from '../domain/recurring-invoice.js';
import { listQuery } from '../http/cursor.js';
import { currencyCode, isoDate, requiredText, text } from '../http/schemas.js';
import { contactFields } from '../clients/schemas.js';

/** Minor units: integers only, never floats; payments and charges must be positive. */
export const positiveAmount = z.number().int('Money is an integer count of minor units.').min(1, 'Must be greater than 0.').max(MAX_INVOICE_AMOUNT);
const signedAmount = z.number().int('Money is an integer count of minor units.').min(-1e12).max(1e12);

export const quantityInput = z.union([z.number(), z.string().max(40)]).superRefine((value, ctx) => {
  const reading = readQuantity(value);
  if (!reading.ok) ctx.addIssue({ code: 'custom', message: reading.error.message });
});

export const invoiceLineInput = z.strictObject({
  description: requiredText(1000),
  quantity: quantityInput,
  unitAmount: signedAmount,
  taxable: z.boolean().optional(),
});

const recurrenceTerm = z.number().int().min(1).max(MAX_RECURRENCE_TERM);
const recurrencePeriod = z.enum(RECURRENCE_PERIODS);
const occurrences = z.number().int().min(1).max(MAX_OCCURRENCES);

export const recurringInput = z.strictObject({
  term: recurrenceTerm,
  period: recurrencePeriod,
  occurrences: occurrences.optional(),
});

export const createInvoiceBody = z.strictObject({
  currency: currencyCode.optional(),
  dateBilled: isoDate.optional(),
  dateDue: isoDate.optional(),
  status: z.enum(['draft', 'open']).optional(),
  lines: z.array(invoiceLineInput).min(1, 'An invoice needs at least one line.').max(200),
  recurring: recurringInput.optional(),
});

export const updateInvoiceBody = z.strictObject({
  currency: currencyCode.optional(),
  dateBilled: isoDate.optional(),
  dateDue: isoDate.optional(),
  lines: z.array(invoiceLineInput).min(1).max(200).optional(),
  status: z.literal('open').optional(),
});

export const listInvoicesQuery = listQuery.extend({
  clientId: z.string().min(1).max(100).optional(),
  status: z.enum(['draft', 'open', 'paid', 'void']).optional(),
  currency: currencyCode.optional(),
  dueBefore: isoDate.optional(),
});

export const updateRecurringBody = z.strictObject({
  lines: z.array(invoiceLineInput).min(1).max(200).optional(),
  term: recurrenceTerm.optional(),
  period: recurrencePeriod.optional(),
  occurrences: occurrences.nullable().optional(),
});

const digits = (min: number, max: number, what: string) =>
  z
    .string()
    .transform((s) => s.replace(/[\s-]/g, ''))
    .refine((s) => new RegExp(`^\\d{${min},${max}}$`).test(s), `Must be ${min}–${max} digits.`)
    .describe(what);

export const cardInput = z.strictObject({
  number: digits(12, 19, 'card number'),
  expMonth: z.number().int().min(1).max(12),
  expYear: z.number().int().min(2000).max(2100),
  cvc: z
    .string()
    .regex(/^\d{3,4}$/, 'Must be 3 or 4 digits.')
    .optional(),
});

export const achInput = z.strictObject({
  accountNumber: digits(4, 17, 'account number'),
  routingNumber: digits(9, 9, 'routing number'),
  accountType: z.enum(['checking', 'savings']),
});

export const paymentContact = z.strictObject({ ...contactFields });

const accountCommon = {
  contact: paymentContact.optional(),
  copyFromContactId: z.string().min(1).max(100).optional(),
  autoDebit: z.boolean().optional(),
};

export const createPaymentAccountBody = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('card'), card: cardInput, ...accountCommon }),
  z.strictObject({ type: z.literal('ach'), ach: achInput, ...accountCommon }),
]);

export const updatePaymentAccountBody = z.strictObject({
  expMonth: z.number().int().min(1).max(12).optional(),
  expYear: z.number().int().min(2000).max(2100).optional(),
  contact: paymentContact.optional(),
});

export const applicationInput = z.strictObject({ invoiceId: z.string().min(1).max(100), amount: positiveAmount });

export const paymentSource = z.union([
  z.strictObject({ paymentAccountId: z.string().min(1).max(100) }),
  z.strictObject({ newCard: cardInput, save: z.boolean().optional() }),
  z.strictObject({ newAch: achInput, save: z.boolean().optional() }),
]);

export const makePaymentBody = z.strictObject({
  source: paymentSource,
  currency: currencyCode,
  apply: z.array(applicationInput).max(50).default([]),
  otherAmount: z.number().int().min(0).max(1e13).optional(),
  sendReceipt: z.boolean().optional(),
});

export const recordPaymentBody = z.strictObject({
  type: z.enum(['check', 'money_order', 'cash', 'wire', 'other']),
  reference: text(200).optional(),
  amount: positiveAmount,
  currency: currencyCode,
  date: isoDate.optional(),
  apply: z.array(applicationInput).max(50).optional(),
});

export const refundBody = z.strictObject({ amount: positiveAmount.optional() });
export const applyCreditsBody = z.strictObject({ currency: currencyCode.optional(), invoiceId: z.string().min(1).max(100).optional() });

export const statementQuery = z.object({
  from: isoDate.optional(),
  to: isoDate.optional(),
  currency: currencyCode.optional(),
  format: z.enum(['json', 'pdf']).optional(),
});

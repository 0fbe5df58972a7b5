import { createInvoice } from '../../functions/billing/invoices/create-invoice.js';
import { recordPayment } from '../../functions/billing/payments/record-payment.js';
import type { Company } from '../../functions/domain/company.js';
import type { Invoice } from '../../functions/domain/invoice.js';
import { seedClient, work } from './invoices/fixtures.js';
import { recordDynamoCalls } from '../support/dynamo-calls.js';

/**
 * A client with a history of `count` invoices of 1000 billed through 2030 (created through the use cases, ten at a
 * time): all but the last two paid, five invoices per offline payment, so every payment looks alike whatever the
 * history's length. Returns the client and its invoices (the last two open).
 */
export async function clientWithHistory(company: Company, count: number): Promise<{ clientId: string; invoices: Invoice[] }> {
  const client = await seedClient(company);
  const day = (n: number) => `2030-${String(1 + (n % 12)).padStart(2, '0')}-${String(1 + ((n * 7) % 28)).padStart(2, '0')}`;
  const invoices: Invoice[] = [];
  for (let first = 0; first < count; first += 10) {
    const batch = Array.from({ length: Math.min(10, count - first) }, (_, i) => first + i);
    const created = await Promise.all(
      batch.map((n) => createInvoice({ companyId: company.id, clientId: client.id, dateBilled: day(n), dateDue: day(n), lines: work(1000) })),
    );
    invoices.push(...created.map((c) => c.invoice));
  }
  const toPay = invoices.slice(0, -2);
  for (let first = 0; first < toPay.length; first += 5) {
    const chunk = toPay.slice(first, first + 5);
    await recordPayment({
      companyId: company.id,
      principal: null,
      clientId: client.id,
      type: 'check',
      amount: chunk.length * 1000,
      currency: 'USD',
      date: '2030-12-31',
      apply: chunk.map((i) => ({ invoiceId: i.id, amount: 1000 })),
    });
  }
  return { clientId: client.id, invoices };
}

/** The DynamoDB calls and items read of `work`. */
export async function readsOf(work: () => Promise<unknown>): Promise<{ calls: number; itemsRead: number; readCapacity: number }> {
  const recorder = recordDynamoCalls();
  try {
    await work();
    const { calls, itemsRead, readCapacity } = recorder.totals();
    return { calls, itemsRead, readCapacity };
  } finally {
    recorder.stop();
  }
}

/** `a` and `b` within ±10% of each other (equal when both are small whole numbers). */
export function within10Percent(a: number, b: number): boolean {
  return Math.abs(a - b) <= 0.1 * Math.max(a, b);
}

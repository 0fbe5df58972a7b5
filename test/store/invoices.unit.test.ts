import { describe, expect, it } from 'vitest';
import type { Invoice } from '../../functions/domain/invoice.js';
import type { RecurringInvoice } from '../../functions/domain/recurring-invoice.js';
import { invoiceFromItem, invoiceToItem, recurringFromItem, recurringToItem } from '../../functions/store/invoices.js';
import {
  clientPk,
  invoicesByDuePk,
  invoicesByDueSk,
  invoiceSk,
  openInvoiceIndexKeys,
  recurringDueIndexKeys,
  recurringInvoiceSk,
  refPk,
  refSk,
} from '../../functions/store/keys.js';

const invoice: Invoice = {
  id: 'inv_1',
  clientId: 'cl_1',
  number: 1001,
  currency: 'USD',
  status: 'open',
  dateBilled: '2030-01-10',
  dateDue: '2030-01-20',
  lines: [{ id: 'li_1', description: 'Hosting', quantity: '3/2', unitAmount: 1000, amount: 1500, taxable: true, tax: 120 }],
  taxRate: { id: 'tax_us', name: 'US sales tax', percent: '8' },
  subtotal: 1500,
  tax: 120,
  total: 1620,
  paid: 0,
  due: 1620,
  recurringInvoiceId: 'rinv_1',
  servicePeriods: [{ serviceId: 'svc_1', periodStart: '2030-01-20' }],
  voidedOn: null,
  createdAt: '2030-01-10T00:00:00.000Z',
  updatedAt: '2030-01-10T00:00:00.000Z',
  version: 1,
};

const series: RecurringInvoice = {
  id: 'rinv_1',
  clientId: 'cl_1',
  currency: 'USD',
  lines: [{ description: 'Hosting', quantity: '3/2', unitAmount: 1000, taxable: true }],
  term: 1,
  period: 'month',
  occurrences: null,
  created: 1,
  nextBillDate: '2030-02-10',
  anchorDate: '2030-01-10',
  anchorIndex: 0,
  dueAfterDays: 10,
  status: 'active',
  createdAt: '2030-01-10T00:00:00.000Z',
  updatedAt: '2030-01-10T00:00:00.000Z',
  version: 1,
};

describe('invoice items', () => {
  it('carry the invoice in the client partition, GSI1 by due date, a pointer, and read back as the same invoice', () => {
    const item = invoiceToItem('co_1', invoice);
    expect(item).toMatchObject({
      PK: clientPk('co_1', 'cl_1'),
      SK: invoiceSk('inv_1'),
      entity: 'invoice',
      GSI1PK: invoicesByDuePk('co_1'),
      GSI1SK: invoicesByDueSk('2030-01-20', 'inv_1'),
      refs: [{ PK: refPk('co_1', 'inv_1'), SK: refSk }],
    });
    expect(invoiceFromItem(item)).toEqual(invoice);
  });

  it('are in GSI2 only while open', () => {
    expect(invoiceToItem('co_1', invoice)).toMatchObject(openInvoiceIndexKeys('co_1', invoice)!);
    for (const status of ['draft', 'paid', 'void'] as const) {
      const item = invoiceToItem('co_1', { ...invoice, status });
      expect(item.GSI2PK).toBeUndefined();
      expect(item.GSI2SK).toBeUndefined();
    }
  });

  it('read attributes absent on older items as null, and refuse an item of the wrong shape', () => {
    const { voidedOn: _voidedOn, recurringInvoiceId: _recurring, servicePeriods: _periods, ...older } = invoiceToItem('co_1', invoice);
    expect(invoiceFromItem(older)).toEqual({ ...invoice, voidedOn: null, recurringInvoiceId: null, servicePeriods: [] });
    expect(() => invoiceFromItem({ ...invoiceToItem('co_1', invoice), total: '1620' })).toThrow(/bad total/);
    expect(() => invoiceFromItem({ ...invoiceToItem('co_1', invoice), status: 'lost' })).toThrow(/bad status/);
    expect(() => invoiceFromItem({ ...invoiceToItem('co_1', invoice), lines: [{ ...invoice.lines[0], amount: 1.5 }] })).toThrow(/bad amount/);
  });
});

describe('recurring series items', () => {
  it('carry the series in the client partition with a pointer and read back as the same series', () => {
    const item = recurringToItem('co_1', series);
    expect(item).toMatchObject({
      PK: clientPk('co_1', 'cl_1'),
      SK: recurringInvoiceSk('rinv_1'),
      entity: 'recurringInvoice',
      refs: [{ PK: refPk('co_1', 'rinv_1'), SK: refSk }],
    });
    expect(recurringFromItem(item)).toEqual(series);
  });

  it('are in GSI2 by next billing date only while active with a next date', () => {
    expect(recurringToItem('co_1', series)).toMatchObject(recurringDueIndexKeys('co_1', series)!);
    expect(recurringToItem('co_1', { ...series, status: 'completed', nextBillDate: null }).GSI2PK).toBeUndefined();
    expect(() => recurringFromItem({ ...recurringToItem('co_1', series), period: 'fortnight' })).toThrow(/bad period/);
  });
});

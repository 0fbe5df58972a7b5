import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, ValidationError } from '../../functions/domain/errors.js';
import {
  assertDeliverable,
  assertInvoiceVisibleTo,
  assertVoidable,
  draftDates,
  newInvoice,
  openDraft,
  reviseDraft,
  visibleInvoiceFilter,
  type Invoice,
  type InvoiceCharges,
  type NewInvoice,
} from '../../functions/domain/invoice.js';
import type { InvoiceStatus } from '../../functions/domain/ledger.js';
import type { Principal } from '../../functions/domain/principal.js';

const charges = (total: number): InvoiceCharges => ({
  lines: [{ id: 'li_1', description: 'Work', quantity: '1', unitAmount: total, amount: total, taxable: false, tax: 0 }],
  taxRate: null,
  subtotal: total,
  tax: 0,
  total,
});

const creation = (overrides: Partial<NewInvoice> = {}): NewInvoice => ({
  id: 'inv_1',
  clientId: 'cl_1',
  currency: 'USD',
  status: 'open',
  dateBilled: '2030-01-10',
  dateDue: '2030-01-20',
  charges: charges(1000),
  recurringInvoiceId: null,
  now: '2030-01-10T09:00:00.000Z',
  ...overrides,
});

const draft = (overrides: Partial<Invoice> = {}): Invoice => ({ ...newInvoice(creation({ status: 'draft' })), ...overrides });

const staff: Principal = { role: 'staff', userId: 'usr_1', username: 'admin', companyId: 'co_1' };
const clientToken: Principal = { role: 'client', userId: 'usr_2', username: 'client', companyId: 'co_1', clientId: 'cl_1' };

function fieldPaths(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError) return error.errors.map((e) => e.path);
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('newInvoice', () => {
  it('opens an invoice with something to pay as open, all of it due, unnumbered', () => {
    expect(newInvoice(creation())).toMatchObject({
      status: 'open',
      number: null,
      total: 1000,
      paid: 0,
      due: 1000,
      voidedOn: null,
      version: 1,
      createdAt: '2030-01-10T09:00:00.000Z',
      updatedAt: '2030-01-10T09:00:00.000Z',
    });
  });

  it('creates an open invoice with a zero total as paid, nothing due', () => {
    expect(newInvoice(creation({ charges: charges(0) }))).toMatchObject({ status: 'paid', paid: 0, due: 0, total: 0 });
  });

  it('keeps a draft a draft whatever its total, with all of it due', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e13 }), (total) => {
        expect(newInvoice(creation({ status: 'draft', charges: charges(total) }))).toMatchObject({ status: 'draft', due: total, paid: 0 });
      }),
    );
  });

  it('opened, it is paid exactly when the total is zero, and due is what is left to pay', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e13 }), (total) => {
        const invoice = newInvoice(creation({ charges: charges(total) }));
        expect(invoice.status).toBe(total === 0 ? 'paid' : 'open');
        expect(invoice.due).toBe(invoice.total - invoice.paid);
      }),
    );
  });

  it('refuses a due date before the billing date naming dateDue; the same day is fine', () => {
    expect(fieldPaths(() => newInvoice(creation({ dateBilled: '2030-01-10', dateDue: '2030-01-09' })))).toEqual(['dateDue']);
    expect(newInvoice(creation({ dateBilled: '2030-01-10', dateDue: '2030-01-10' })).dateDue).toBe('2030-01-10');
  });
});

describe('changing a draft', () => {
  it('moves the due date along with a later billing date unless a due date is given', () => {
    const current = { dateBilled: '2030-01-10', dateDue: '2030-01-20' };
    expect(draftDates(current, { dateBilled: '2030-01-25' })).toEqual({ dateBilled: '2030-01-25', dateDue: '2030-01-25' });
    expect(draftDates(current, { dateBilled: '2030-01-15' })).toEqual({ dateBilled: '2030-01-15', dateDue: '2030-01-20' });
    expect(draftDates(current, { dateBilled: '2030-01-25', dateDue: '2030-02-01' })).toEqual({ dateBilled: '2030-01-25', dateDue: '2030-02-01' });
    expect(fieldPaths(() => draftDates(current, { dateDue: '2030-01-01' }))).toEqual(['dateDue']);
  });

  it('takes new charges with all of the total due, and counts a version', () => {
    const revised = reviseDraft(draft(), { charges: charges(3000), currency: 'EUR' }, '2030-01-11T00:00:00.000Z');
    expect(revised).toMatchObject({
      status: 'draft',
      currency: 'EUR',
      total: 3000,
      due: 3000,
      version: 2,
      updatedAt: '2030-01-11T00:00:00.000Z',
      createdAt: '2030-01-10T09:00:00.000Z',
    });
    expect(reviseDraft(draft(), {}, '2030-01-11T00:00:00.000Z')).toMatchObject({ total: 1000, lines: draft().lines, currency: 'USD', version: 2 });
  });

  it('refuses to change or open anything but a draft', () => {
    for (const status of ['open', 'paid', 'void'] as InvoiceStatus[]) {
      expect(() => reviseDraft(draft({ status }), {}, '2030-01-11T00:00:00.000Z')).toThrow(ConflictError);
      expect(() => openDraft(draft({ status }))).toThrow(expect.objectContaining({ code: 'invoice_not_draft' }));
    }
  });

  it('opens a draft as open with its total due, or paid when the total is zero', () => {
    expect(openDraft(draft())).toMatchObject({ status: 'open', due: 1000, number: null });
    expect(openDraft(draft({ total: 0, due: 0 }))).toMatchObject({ status: 'paid', due: 0 });
  });
});

describe('voiding and delivering', () => {
  it('a draft is neither voided (409 invoice_not_voidable) nor delivered (400 on id)', () => {
    expect(() => assertVoidable(draft())).toThrow(expect.objectContaining({ code: 'invoice_not_voidable' }));
    expect(fieldPaths(() => assertDeliverable(draft()))).toEqual(['id']);
    for (const status of ['open', 'paid'] as InvoiceStatus[]) {
      expect(() => assertVoidable(draft({ status }))).not.toThrow();
      expect(() => assertDeliverable(draft({ status }))).not.toThrow();
    }
  });
});

describe('what a principal may see', () => {
  it('staff see every invoice; a client token its own once they are not drafts', () => {
    expect(() => assertInvoiceVisibleTo(staff, draft({ clientId: 'cl_other' }))).not.toThrow();
    expect(() => assertInvoiceVisibleTo(clientToken, draft({ status: 'open' }))).not.toThrow();
    expect(() => assertInvoiceVisibleTo(clientToken, draft())).toThrow(NotFoundError);
    expect(() => assertInvoiceVisibleTo(clientToken, draft({ status: 'open', clientId: 'cl_other' }))).toThrow(NotFoundError);
  });

  it('lists for staff what was asked; for a client token its own invoices without drafts, or nothing', () => {
    expect(visibleInvoiceFilter(staff, { status: 'draft', currency: 'USD' })).toEqual({ status: 'draft', currency: 'USD', excludeDrafts: false });
    expect(visibleInvoiceFilter(clientToken, { dueBefore: '2030-01-01' })).toEqual({ clientId: 'cl_1', dueBefore: '2030-01-01', excludeDrafts: true });
    expect(visibleInvoiceFilter(clientToken, { clientId: 'cl_1', status: 'open' })).toEqual({ clientId: 'cl_1', status: 'open', excludeDrafts: true });
    expect(visibleInvoiceFilter(clientToken, { clientId: 'cl_other' })).toBeUndefined();
    expect(visibleInvoiceFilter(clientToken, { status: 'draft' })).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../functions/domain/errors.js';
import {
  changePaymentAccount,
  contactOf,
  isExpiredOn,
  isUsable,
  newPaymentAccount,
  paymentAccountView,
  type PaymentAccount,
} from '../../functions/domain/payment-account.js';

const CREATED = '2030-01-01T00:00:00.000Z';
const LATER = '2030-02-01T00:00:00.000Z';

function card(fields: Partial<PaymentAccount> = {}): PaymentAccount {
  return {
    ...newPaymentAccount({
      id: 'pa_1',
      clientId: 'cl_1',
      type: 'card',
      method: { brand: 'visa', last4: '4242', expMonth: 6, expYear: 2030 },
      contact: { firstName: 'Ada', lastName: 'Lovelace' },
      gateway: 'local',
      secret: 'sealed-blob',
      now: CREATED,
    }),
    ...fields,
  };
}

const bank = (): PaymentAccount =>
  newPaymentAccount({
    id: 'pa_2',
    clientId: 'cl_1',
    type: 'ach',
    method: { brand: 'ach', last4: '6789' },
    accountType: 'checking',
    contact: {},
    gateway: 'local',
    secret: 'sealed',
    now: CREATED,
  });

describe('newPaymentAccount', () => {
  it('is active, not the auto-debit account, without declines, at version 1', () => {
    expect(card()).toMatchObject({
      status: 'active',
      autoDebit: false,
      consecutiveDeclines: 0,
      version: 1,
      createdAt: CREATED,
      updatedAt: CREATED,
      expMonth: 6,
      expYear: 2030,
      accountType: null,
    });
    expect(bank()).toMatchObject({ type: 'ach', expMonth: null, expYear: null, accountType: 'checking' });
  });
});

describe('paymentAccountView', () => {
  it('shows neither the sealed secret, the gateway nor the decline count', () => {
    const view = paymentAccountView(card({ consecutiveDeclines: 2 }));
    expect(view).not.toHaveProperty('secret');
    expect(view).not.toHaveProperty('gateway');
    expect(view).not.toHaveProperty('consecutiveDeclines');
    expect(JSON.stringify(view)).not.toContain('sealed-blob');
    expect(view).toMatchObject({ id: 'pa_1', brand: 'visa', last4: '4242', autoDebit: false, version: 1 });
  });
});

describe('isExpiredOn', () => {
  it('keeps a card good through the last day of its expiry month', () => {
    expect(isExpiredOn(card(), '2030-06-30')).toBe(false);
    expect(isExpiredOn(card(), '2030-07-01')).toBe(true);
    expect(isExpiredOn(card(), '2029-12-31')).toBe(false);
  });

  it('never expires a bank account or a card without an expiry', () => {
    expect(isExpiredOn(bank(), '2099-01-01')).toBe(false);
    expect(isExpiredOn(card({ expMonth: null, expYear: null }), '2099-01-01')).toBe(false);
  });
});

/** The field paths of the ValidationError `change` throws; fails the test when it throws nothing. */
function refusedPaths(change: () => unknown): string[] {
  try {
    change();
  } catch (error) {
    if (error instanceof ValidationError) return error.errors.map((e) => e.path);
    throw error;
  }
  throw new Error('The change was accepted.');
}

describe('changePaymentAccount', () => {
  it('changes the expiry and the contact, moving the version and updatedAt', () => {
    const next = changePaymentAccount(card(), { expMonth: 1, expYear: 2031, contact: { firstName: 'Grace' } }, '2030-06-15', LATER);
    expect(next).toMatchObject({ expMonth: 1, expYear: 2031, contact: { firstName: 'Grace' }, version: 2, updatedAt: LATER, createdAt: CREATED });
  });

  it('keeps what is not given', () => {
    const next = changePaymentAccount(card(), { expYear: 2032 }, '2030-06-15', LATER);
    expect(next).toMatchObject({ expMonth: 6, expYear: 2032, contact: { firstName: 'Ada', lastName: 'Lovelace' } });
  });

  it('refuses an expiry on a bank account, naming expMonth', () => {
    expect(refusedPaths(() => changePaymentAccount(bank(), { expYear: 2031 }, '2030-06-15', LATER))).toEqual(['expMonth']);
  });

  it('refuses a change that leaves the card expired (even a contact change), naming expYear; the expiry month itself is fine', () => {
    expect(refusedPaths(() => changePaymentAccount(card(), { expMonth: 5 }, '2030-07-01', LATER))).toEqual(['expYear']);
    expect(refusedPaths(() => changePaymentAccount(card(), { contact: { firstName: 'Grace' } }, '2030-07-01', LATER))).toEqual(['expYear']);
    expect(changePaymentAccount(card(), { expMonth: 7 }, '2030-07-01', LATER).expMonth).toBe(7);
  });

  it('leaves the auto-debit flag as it was', () => {
    expect(changePaymentAccount(card({ autoDebit: true }), { expYear: 2031 }, '2030-06-15', LATER).autoDebit).toBe(true);
  });
});

describe('isUsable and contactOf', () => {
  it('only an active account is usable', () => {
    expect(isUsable(card())).toBe(true);
    expect(isUsable(card({ status: 'disabled' }))).toBe(false);
  });

  it("copies exactly a contact's fields", () => {
    const fields = {
      firstName: 'A',
      lastName: 'B',
      company: null,
      title: null,
      address1: '1 Road',
      address2: null,
      city: 'Leeds',
      country: 'GB',
      state: null,
      zip: 'LS1',
      email: 'a@example.com',
      phones: [],
    };
    const contact = { ...fields, id: 'ct_1', type: 'billing' };
    expect(contactOf(contact)).toEqual(fields);
  });
});

import { describe, expect, it } from 'vitest';
import {
  achProblems,
  cardBrand,
  cardDigits,
  cardProblems,
  cardUsableOn,
  isValidAccountNumber,
  isValidRoutingNumber,
  last4,
  luhnValid,
} from '../../functions/domain/cards.js';

describe('luhnValid', () => {
  it('accepts valid numbers and rejects a changed digit', () => {
    for (const n of ['4242424242424242', '4000000000000002', '4000000000000119', '378282246310005', '6011111111111117', '79927398713']) {
      expect(luhnValid(n), n).toBe(true);
    }
    expect(luhnValid('4242424242424241')).toBe(false);
    expect(luhnValid('79927398710')).toBe(false);
    expect(luhnValid('4242 4242 4242 4242')).toBe(false);
    expect(luhnValid('')).toBe(false);
  });

  it('strips group separators only', () => {
    expect(cardDigits('4242 4242-4242 4242')).toBe('4242424242424242');
    expect(cardDigits('4242x4242')).toBeUndefined();
  });
});

describe('cardBrand', () => {
  it.each([
    ['4242424242424242', 'visa'],
    ['5555555555554444', 'mastercard'],
    ['2223003122003222', 'mastercard'],
    ['378282246310005', 'amex'],
    ['371449635398431', 'amex'],
    ['6011111111111117', 'discover'],
    ['6445644564456445', 'discover'],
    ['6221260000000000', 'discover'],
    ['3566002020360505', 'jcb'],
    ['36227206271667', 'diners'],
    ['3056930009020004', 'diners'],
    ['3852000002323700', 'diners'],
    ['9999999999999995', 'unknown'],
    ['6200000000000005', 'unknown'],
    ['', 'unknown'],
  ])('%s is %s', (number, brand) => {
    expect(cardBrand(number)).toBe(brand);
  });
});

describe('expiry', () => {
  it('is valid through the last day of the expiry month', () => {
    expect(cardUsableOn(12, 2026, '2026-12-31')).toBe(true);
    expect(cardUsableOn(12, 2026, '2027-01-01')).toBe(false);
    expect(cardUsableOn(2, 2027, '2026-12-15')).toBe(true);
    expect(cardUsableOn(1, 2026, new Date('2026-01-31T23:59:59Z'))).toBe(true);
    expect(cardUsableOn(1, 2026, new Date('2026-02-01T00:00:00Z'))).toBe(false);
    expect(cardUsableOn(6, 27, '2026-06-01')).toBe(true);
    expect(cardUsableOn(13, 2030, '2026-01-01')).toBe(false);
    expect(cardUsableOn(0, 2030, '2026-01-01')).toBe(false);
  });
});

describe('last4', () => {
  it('shows only the last four digits', () => {
    expect(last4('4242 4242 4242 1234')).toBe('1234');
    expect(last4('000123456789')).toBe('6789');
  });
});

describe('bank details', () => {
  it('checks ABA routing numbers with the 3-7-1 weights', () => {
    for (const routing of ['110000000', '021000021', '011000015', '122105278']) expect(isValidRoutingNumber(routing), routing).toBe(true);
    for (const routing of ['123456789', '110000001', '000000000', '11000000', '1100000000', '11000000a'])
      expect(isValidRoutingNumber(routing), routing).toBe(false);
  });

  it('accepts account numbers of 4 to 17 digits', () => {
    expect(isValidAccountNumber('1234')).toBe(true);
    expect(isValidAccountNumber('12345678901234567')).toBe(true);
    expect(isValidAccountNumber('123')).toBe(false);
    expect(isValidAccountNumber('123456789012345678')).toBe(false);
    expect(isValidAccountNumber('12 34')).toBe(false);
  });
});

describe('problems lists', () => {
  it('names each bad card field without echoing the number', () => {
    const problems = cardProblems({ number: '4242424242424241', expMonth: 1, expYear: 2020, cvc: '12' }, '2026-03-01');
    expect(problems.map((p) => p.path)).toEqual(['card.number', 'card.expYear', 'card.cvc']);
    expect(JSON.stringify(problems)).not.toContain('4242');
    expect(cardProblems({ number: '4242424242424242', expMonth: 13, expYear: 2030 }, '2026-03-01').map((p) => p.path)).toEqual(['card.expMonth']);
  });

  it('asks for a four-digit CVC on American Express', () => {
    expect(cardProblems({ number: '378282246310005', expMonth: 1, expYear: 2030, cvc: '123' }, '2026-03-01').map((p) => p.path)).toEqual(['card.cvc']);
    expect(cardProblems({ number: '378282246310005', expMonth: 1, expYear: 2030, cvc: '1234' }, '2026-03-01')).toEqual([]);
  });

  it('accepts good cards and bank accounts', () => {
    expect(cardProblems({ number: '4242 4242 4242 4242', expMonth: 3, expYear: 2026, cvc: '123' }, '2026-03-31', 'source.newCard')).toEqual([]);
    expect(achProblems({ accountNumber: '000123456789', routingNumber: '110000000' })).toEqual([]);
    expect(achProblems({ accountNumber: '12', routingNumber: '110000001' }, 'source.newAch').map((p) => p.path)).toEqual([
      'source.newAch.routingNumber',
      'source.newAch.accountNumber',
    ]);
  });
});

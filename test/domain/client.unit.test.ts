import { describe, expect, it } from 'vitest';
import { assertClientMayChange, assertRequiredName, summaryRows, type BalanceTotals } from '../../functions/domain/client.js';
import { ValidationError } from '../../functions/domain/errors.js';

const row = (currency: string, due = 0): BalanceTotals => ({ currency, invoiced: due, paid: 0, due, credit: 0 });

describe('summaryRows', () => {
  it("lists the client's own currency with zero totals when it has none", () => {
    expect(summaryRows({ currency: 'USD' }, [])).toEqual([row('USD')]);
  });

  it("puts the client's own currency first and the others by code", () => {
    const rows = summaryRows({ currency: 'GBP' }, [row('USD', 5), row('EUR', 3), row('GBP', 7)]);
    expect(rows.map((r) => r.currency)).toEqual(['GBP', 'EUR', 'USD']);
    expect(rows[0]).toEqual(row('GBP', 7));
  });

  it('adds the zero row for the own currency ahead of the others', () => {
    expect(summaryRows({ currency: 'CAD' }, [row('USD', 5)]).map((r) => r.currency)).toEqual(['CAD', 'USD']);
  });
});

function pathsOf(run: () => void): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).errors.map((e) => e.path);
  }
  return [];
}

describe('assertRequiredName', () => {
  it('accepts a company alone, or a first and a last name', () => {
    expect(() => assertRequiredName({ company: 'Acme', firstName: null, lastName: null })).not.toThrow();
    expect(() => assertRequiredName({ company: null, firstName: 'Ada', lastName: 'Lovelace' })).not.toThrow();
  });

  it('names the company and each missing name, blank counting as missing', () => {
    expect(pathsOf(() => assertRequiredName({ company: ' ', firstName: 'Ada', lastName: null }))).toEqual(['company', 'lastName']);
    expect(pathsOf(() => assertRequiredName({ company: null, firstName: null, lastName: null }))).toEqual(['company', 'firstName', 'lastName']);
  });

  it('reports the other problems given after the name ones, in one error', () => {
    const other = { path: 'username', message: 'A login needs a username or an email.' };
    expect(pathsOf(() => assertRequiredName({ company: null, firstName: 'Ada', lastName: null }, [other]))).toEqual(['company', 'lastName', 'username']);
    expect(pathsOf(() => assertRequiredName({ company: 'Acme', firstName: null, lastName: null }, [other]))).toEqual(['username']);
  });
});

describe('assertClientMayChange', () => {
  it('lets a client change its address, phones, language, marketing opt-in and password', () => {
    expect(() => assertClientMayChange(['address1', 'city', 'phones', 'language', 'marketingOptIn', 'password'])).not.toThrow();
  });

  it('names each field only staff may change', () => {
    expect(pathsOf(() => assertClientMayChange(['city', 'email', 'groupId', 'taxExempt']))).toEqual(['email', 'groupId', 'taxExempt']);
  });
});

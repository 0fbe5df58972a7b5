import { describe, expect, it } from 'vitest';
import { applySettingsPatch, assertCompanyCurrency, newCompany, normaliseCurrencies, withTaxRateIds, type Company } from '../../functions/domain/company.js';
import { ValidationError } from '../../functions/domain/errors.js';
import { DEFAULT_GROUP_SETTINGS } from '../../functions/domain/settings.js';

const CREATED = '2030-01-01T00:00:00.000Z';
const CHANGED = '2030-01-02T00:00:00.000Z';

function company(): Company {
  return newCompany({ id: 'co_1', name: 'Acme', defaultCurrency: 'USD', timeZone: 'America/New_York', defaultGroupId: 'grp_1' }, CREATED);
}

function counter(prefix = 'tax_new'): () => string {
  let n = 0;
  return () => `${prefix}${++n}`;
}

describe('newCompany', () => {
  it('starts with its currency as its only one, English, no tax rates or contact types, the default group settings, version 1', () => {
    expect(company()).toEqual({
      id: 'co_1',
      name: 'Acme',
      defaultGroupId: 'grp_1',
      own: { defaultCurrency: 'USD', currencies: ['USD'], timeZone: 'America/New_York', language: 'en', taxRates: [], contactTypes: [] },
      groupSettings: DEFAULT_GROUP_SETTINGS,
      version: 1,
      createdAt: CREATED,
      updatedAt: CREATED,
    });
  });
});

describe('normaliseCurrencies', () => {
  it('puts the default currency first and drops repeats', () => {
    expect(normaliseCurrencies('EUR', ['USD', 'EUR', 'GBP', 'USD'])).toEqual(['EUR', 'USD', 'GBP']);
  });

  it('adds the default currency when the list lacks it', () => {
    expect(normaliseCurrencies('CAD', ['USD'])).toEqual(['CAD', 'USD']);
  });
});

describe('withTaxRateIds', () => {
  it('keeps an id a rate came with and mints one for a rate without', () => {
    const rates = withTaxRateIds(
      [
        { id: 'tax_kept', name: 'VAT', percent: '20', country: 'GB' },
        { name: 'Zero', percent: '0' },
      ],
      counter(),
    );
    expect(rates).toEqual([
      { id: 'tax_kept', name: 'VAT', percent: '20', country: 'GB' },
      { id: 'tax_new1', name: 'Zero', percent: '0' },
    ]);
  });

  it('mints tax_ ids by default', () => {
    expect(withTaxRateIds([{ name: 'VAT', percent: '20' }])[0].id).toMatch(/^tax_[0-9A-Z]{26}$/);
  });

  it('refuses two rates with the same id, naming taxRates', () => {
    const attempt = () =>
      withTaxRateIds([
        { id: 'tax_a', name: 'A', percent: '1' },
        { id: 'tax_a', name: 'B', percent: '2' },
      ]);
    expect(attempt).toThrow(ValidationError);
    expect(attempt).toThrow(expect.objectContaining({ errors: [{ path: 'taxRates', message: 'Tax rate ids must be unique.' }] }));
  });

  it('refuses a rate with a state but no country, naming taxRates', () => {
    expect(() => withTaxRateIds([{ name: 'NY', percent: '8.875', state: 'NY' }])).toThrow(
      expect.objectContaining({ errors: [{ path: 'taxRates', message: 'A rate with a state needs a country.' }] }),
    );
  });
});

describe('applySettingsPatch', () => {
  it('keeps every key not given and moves the version and updatedAt only', () => {
    const current = company();
    expect(applySettingsPatch(current, {}, CHANGED)).toEqual({ ...current, version: 2, updatedAt: CHANGED });
  });

  it('re-normalises the current currencies around a new default currency', () => {
    const current = applySettingsPatch(company(), { currencies: ['EUR', 'GBP'] }, CHANGED);
    expect(applySettingsPatch(current, { defaultCurrency: 'GBP' }, CHANGED).own.currencies).toEqual(['GBP', 'USD', 'EUR']);
  });

  it('replaces the tax-rate list whole, minting ids for new rates', () => {
    const current = applySettingsPatch(company(), { taxRates: [{ name: 'Old', percent: '1' }] }, CHANGED, counter('tax_a'));
    const next = applySettingsPatch(current, { taxRates: [{ name: 'New', percent: '2' }] }, CHANGED, counter('tax_b'));
    expect(next.own.taxRates).toEqual([{ id: 'tax_b1', name: 'New', percent: '2' }]);
  });

  it('sets own keys and group-setting values from one flat patch, notices key by key', () => {
    const next = applySettingsPatch(
      company(),
      { timeZone: 'Europe/Paris', language: 'fr', contactTypes: ['legal'], enableAutoDebit: false, paymentDueNotices: { firstNoticeDays: 3 } },
      CHANGED,
    );
    expect(next.own).toMatchObject({ timeZone: 'Europe/Paris', language: 'fr', contactTypes: ['legal'], defaultCurrency: 'USD' });
    expect(next.groupSettings).toEqual({
      ...DEFAULT_GROUP_SETTINGS,
      enableAutoDebit: false,
      paymentDueNotices: { ...DEFAULT_GROUP_SETTINGS.paymentDueNotices, firstNoticeDays: 3 },
    });
  });

  it('does not mutate the current company', () => {
    const current = company();
    const before = structuredClone(current);
    applySettingsPatch(current, { currencies: ['EUR'], autoDebitAttempts: 1, paymentDueNotices: { enabled: false } }, CHANGED);
    expect(current).toEqual(before);
  });
});

describe('assertCompanyCurrency', () => {
  it("accepts one of the company's currencies and names currency for any other", () => {
    const current = applySettingsPatch(company(), { currencies: ['EUR'] }, CHANGED);
    expect(() => assertCompanyCurrency(current, 'EUR')).not.toThrow();
    expect(() => assertCompanyCurrency(current, 'GBP')).toThrow(
      expect.objectContaining({ errors: [{ path: 'currency', message: "Not one of the company's currencies (USD, EUR)." }] }),
    );
  });
});

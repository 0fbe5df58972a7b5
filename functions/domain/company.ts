import { ValidationError } from './errors.js';
import { newId } from './ids.js';
import { applyGroupSettingsPatch, DEFAULT_GROUP_SETTINGS, type GroupSettings, type GroupSettingsPatch } from './settings.js';
import type { Versioned } from './versioned.js';

export interface TaxRate {
  id: string;
  name: string;
  /** Exact decimal string, e.g. "20" or "7.25". */
  percent: string;
  country?: string;
  state?: string;
}

/** A tax rate as a caller sends it: a rate sent back with its id keeps it; a new one gets one. */
export type TaxRateInput = Omit<TaxRate, 'id'> & { id?: string };

/** The company-wide settings: its own keys plus a concrete value for every group setting. */
export interface CompanyOwnSettings {
  defaultCurrency: string;
  currencies: string[];
  timeZone: string;
  language: string;
  taxRates: TaxRate[];
  contactTypes: string[];
}

export interface Company extends Versioned {
  id: string;
  name: string;
  defaultGroupId: string;
  staffUserId?: string;
  own: CompanyOwnSettings;
  groupSettings: GroupSettings;
}

export interface NewCompany {
  id: string;
  name: string;
  defaultCurrency: string;
  timeZone: string;
  defaultGroupId: string;
}

/** A new company: its currency is its only one, English, no tax rates or contact types, Blesta-like group defaults. */
export function newCompany(input: NewCompany, now: string): Company {
  return {
    id: input.id,
    name: input.name,
    defaultGroupId: input.defaultGroupId,
    own: {
      defaultCurrency: input.defaultCurrency,
      currencies: [input.defaultCurrency],
      timeZone: input.timeZone,
      language: 'en',
      taxRates: [],
      contactTypes: [],
    },
    groupSettings: DEFAULT_GROUP_SETTINGS,
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
}

/** The currencies list always holds the default currency, first. */
export function normaliseCurrencies(defaultCurrency: string, currencies: readonly string[]): string[] {
  return [defaultCurrency, ...currencies.filter((c) => c !== defaultCurrency)].filter((c, i, all) => all.indexOf(c) === i);
}

/** A client's (or an invoice's) currency must be one the company uses. */
export function assertCompanyCurrency(company: Company, currency: string): void {
  if (!company.own.currencies.includes(currency)) {
    throw ValidationError.field('currency', `Not one of the company's currencies (${company.own.currencies.join(', ')}).`);
  }
}

/**
 * The company's tax rates as sent: each keeps the id it came with, a new one gets a fresh `tax_` id. Invoices
 * name a rate by id, so two rates may not share one; a state only means something inside a country.
 */
export function withTaxRateIds(rates: readonly TaxRateInput[], newTaxRateId: () => string = () => newId('tax')): TaxRate[] {
  const withIds = rates.map((rate) => ({ ...rate, id: rate.id ?? newTaxRateId() }));
  if (new Set(withIds.map((r) => r.id)).size !== withIds.length) throw ValidationError.field('taxRates', 'Tax rate ids must be unique.');
  if (withIds.some((r) => r.state && !r.country)) throw ValidationError.field('taxRates', 'A rate with a state needs a country.');
  return withIds;
}

/** `PATCH /v1/settings`: the company's own keys and any group-setting value, flat, each optional. */
export type CompanySettingsPatch = Partial<Omit<CompanyOwnSettings, 'taxRates'>> & { taxRates?: TaxRateInput[] } & GroupSettingsPatch;

/**
 * The company after a settings change. Keys not given keep their value; a new default currency joins the
 * currencies list (at its head); a new tax-rate list replaces the old one whole; group-setting values merge
 * key by key (`paymentDueNotices` too). The version moves by one.
 */
export function applySettingsPatch(current: Company, patch: CompanySettingsPatch, now: string, newTaxRateId?: () => string): Company {
  const { defaultCurrency, currencies, timeZone, language, taxRates, contactTypes, ...groupSettings } = patch;
  const nextDefault = defaultCurrency ?? current.own.defaultCurrency;
  return {
    ...current,
    own: {
      defaultCurrency: nextDefault,
      currencies: normaliseCurrencies(nextDefault, currencies ?? current.own.currencies),
      timeZone: timeZone ?? current.own.timeZone,
      language: language ?? current.own.language,
      taxRates: taxRates ? withTaxRateIds(taxRates, newTaxRateId) : current.own.taxRates,
      contactTypes: contactTypes ?? current.own.contactTypes,
    },
    groupSettings: applyGroupSettingsPatch(current.groupSettings, groupSettings),
    version: current.version + 1,
    updatedAt: now,
  };
}

/** The company as `GET /v1/companies` shows it. */
export function companyView(company: Company) {
  return {
    id: company.id,
    name: company.name,
    defaultCurrency: company.own.defaultCurrency,
    currencies: company.own.currencies,
    timeZone: company.own.timeZone,
    language: company.own.language,
    defaultGroupId: company.defaultGroupId,
    staffUserId: company.staffUserId,
    createdAt: company.createdAt,
    updatedAt: company.updatedAt,
    version: company.version,
  };
}

/** `GET /v1/settings`: the company's own keys and every group setting, flat. */
export function settingsView(company: Company) {
  return { ...company.own, ...company.groupSettings, version: company.version, updatedAt: company.updatedAt };
}

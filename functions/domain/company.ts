import type { GroupSettings } from './settings.js';
import type { Versioned } from '../store/items.js';

export interface TaxRate {
  id: string;
  name: string;
  /** Exact decimal string, e.g. "20" or "7.25". */
  percent: string;
  country?: string;
  state?: string;
}

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

/** The currencies list always holds the default currency, first. */
export function normaliseCurrencies(defaultCurrency: string, currencies: readonly string[]): string[] {
  return [defaultCurrency, ...currencies.filter((c) => c !== defaultCurrency)].filter((c, i, all) => all.indexOf(c) === i);
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

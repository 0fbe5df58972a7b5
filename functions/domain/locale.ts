/**
 * ISO codes checked against the runtime's ICU data (Node ships full ICU), so no code lists are kept by hand.
 */
const currencyCodes = new Set(Intl.supportedValuesOf('currency'));
const timeZones = new Set([...Intl.supportedValuesOf('timeZone'), 'UTC']);

export function isCurrencyCode(code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && currencyCodes.has(code);
}

/** Decimal places of a currency's minor unit (USD 2, JPY 0, BHD 3). */
export function currencyExponent(code: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency: code }).resolvedOptions().maximumFractionDigits ?? 2;
}

export function isTimeZone(zone: string): boolean {
  return timeZones.has(zone);
}

export function canonicalLanguage(tag: string): string | undefined {
  try {
    const [canonical] = Intl.getCanonicalLocales(tag);
    return canonical;
  } catch {
    return undefined;
  }
}

/**
 * Region codes ICU names that are not ISO 3166-1 alpha-2 countries: withdrawn codes (DD, SU, YU, …), exceptional
 * reservations (AC, EA, IC, TA, UK, …) and user-assigned or grouping codes (EU, UN, XK, ZZ, …). Without them the
 * table has the 249 ISO codes, so "Germany" is DE, not the withdrawn DD.
 */
const NOT_ISO_3166 = new Set([
  'AC',
  'AN',
  'BU',
  'CP',
  'CQ',
  'CS',
  'DD',
  'DG',
  'DY',
  'EA',
  'EU',
  'EZ',
  'FX',
  'HV',
  'IC',
  'NH',
  'QO',
  'RH',
  'SU',
  'TA',
  'TP',
  'UK',
  'UN',
  'VD',
  'XA',
  'XB',
  'XK',
  'YD',
  'YU',
  'ZR',
  'ZZ',
]);

let countries: Map<string, string> | undefined;

/** ISO 3166-1 alpha-2 code → English name, from ICU's region names. */
function countryTable(): Map<string, string> {
  if (countries) return countries;
  const names = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
  countries = new Map();
  for (let a = 65; a <= 90; a++) {
    for (let b = 65; b <= 90; b++) {
      const code = String.fromCharCode(a, b);
      const name = names.of(code);
      if (name && name !== code && !NOT_ISO_3166.has(code)) {
        countries.set(code, name);
      }
    }
  }
  return countries;
}

const folded = (s: string) =>
  s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z]/g, '');

/** Accepts an alpha-2 code (any case) or a full English country name; returns the code or undefined. */
export function countryCode(input: string): string | undefined {
  const table = countryTable();
  const upper = input.trim().toUpperCase();
  if (table.has(upper)) return upper;
  const wanted = folded(input);
  if (!wanted) return undefined;
  // ICU adds qualifiers ("Myanmar (Burma)", "Hong Kong SAR China"): match the plain name too.
  for (const [code, name] of table) if (folded(name) === wanted || folded(name.replace(/\s*\(.*\)\s*/g, '')) === wanted) return code;
  const aliases: Record<string, string> = {
    unitedstatesofamerica: 'US',
    usa: 'US',
    uk: 'GB',
    greatbritain: 'GB',
    england: 'GB',
    russia: 'RU',
    southkorea: 'KR',
    northkorea: 'KP',
    vietnam: 'VN',
    burma: 'MM',
    hongkong: 'HK',
    macau: 'MO',
    macao: 'MO',
    congo: 'CG',
    drc: 'CD',
    democraticrepublicofthecongo: 'CD',
    palestine: 'PS',
    turkey: 'TR',
    czechia: 'CZ',
    czechrepublic: 'CZ',
    ivorycoast: 'CI',
    holland: 'NL',
  };
  return aliases[wanted];
}

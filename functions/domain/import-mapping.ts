import { ValidationError, type FieldError } from './errors.js';

/**
 * Which column of a client CSV feeds which client field (contract, "Imports"). Pure: the API checks a mapping's
 * shape when the import is created, the worker resolves it against the file's header once the file is there.
 */

/** The system fields of an import, in the order Billow's export writes them. */
export const SYSTEM_FIELDS = [
  'number',
  'email',
  'company',
  'firstName',
  'lastName',
  'title',
  'phone',
  'fax',
  'mobile',
  'address1',
  'address2',
  'city',
  'state',
  'zip',
  'country',
  'taxId',
  'taxExempt',
  'currency',
  'language',
  'group',
] as const;
export type SystemField = (typeof SYSTEM_FIELDS)[number];

/**
 * The header Billow's export writes for each system field: seed 004's names where it has one ("Client Number",
 * "Business Name", "Telephone", "Street Address 1", …), so an export opens as an Online Invoices import file too.
 * Each is also an alias below, so an export always maps back by itself.
 */
export const EXPORT_HEADERS: Readonly<Record<SystemField, string>> = {
  number: 'Client Number',
  email: 'Email',
  company: 'Business Name',
  firstName: 'First Name',
  lastName: 'Last Name',
  title: 'Title',
  phone: 'Telephone',
  fax: 'Fax',
  mobile: 'Mobile',
  address1: 'Street Address 1',
  address2: 'Street Address 2',
  city: 'City',
  state: 'State',
  zip: 'Zip',
  country: 'Country',
  taxId: 'Tax ID',
  taxExempt: 'Tax Exempt',
  currency: 'Currency',
  language: 'Language',
  group: 'Group',
};

/** Other names spreadsheets use for the same columns (compared after `headerKey`). */
const ALIASES: Readonly<Record<SystemField, readonly string[]>> = {
  number: ['number', 'clientno', 'clientnumber', 'customernumber', 'customerno', 'accountnumber'],
  email: ['email', 'emailaddress', 'mail'],
  company: ['company', 'companyname', 'business', 'businessname', 'organization', 'organisation'],
  firstName: ['firstname', 'first', 'givenname', 'forename'],
  lastName: ['lastname', 'last', 'surname', 'familyname'],
  title: ['title', 'jobtitle'],
  phone: ['phone', 'telephone', 'phonenumber', 'telephonenumber', 'tel', 'workphone'],
  fax: ['fax', 'faxnumber'],
  mobile: ['mobile', 'mobilephone', 'mobilenumber', 'cell', 'cellphone'],
  address1: ['address', 'address1', 'addressline1', 'street', 'streetaddress', 'streetaddress1'],
  address2: ['address2', 'addressline2', 'streetaddress2'],
  city: ['city', 'town'],
  state: ['state', 'province', 'region', 'stateprovince', 'county'],
  zip: ['zip', 'zipcode', 'postcode', 'postalcode', 'zippostalcode'],
  country: ['country', 'countrycode'],
  taxId: ['taxid', 'taxnumber', 'vatid', 'vatnumber'],
  taxExempt: ['taxexempt'],
  currency: ['currency', 'currencycode'],
  language: ['language'],
  group: ['group', 'groupname', 'clientgroup'],
};

/**
 * A header compared case-, space-, `_`, `-` and `.`-insensitively ("E-mail", "first_name", "Zip Code", "TAX ID"),
 * after NFKC (full-width letters) and without a BOM a file might leave on its first header.
 */
export function headerKey(header: string): string {
  return header
    .normalize('NFKC')
    .replace(/\uFEFF/g, '')
    .toLowerCase()
    .replace(/[\s_.-]+/g, '');
}

const FIELD_BY_KEY: ReadonlyMap<string, SystemField> = (() => {
  const map = new Map<string, SystemField>();
  for (const field of SYSTEM_FIELDS) {
    for (const key of [headerKey(EXPORT_HEADERS[field]), headerKey(field), ...ALIASES[field]]) {
      const taken = map.get(key);
      if (taken && taken !== field) throw new Error(`Header alias ${key} names both ${taken} and ${field}.`);
      map.set(key, field);
    }
  }
  return map;
})();

/** The system field a header names, if any. */
export function fieldForHeader(header: string): SystemField | undefined {
  return FIELD_BY_KEY.get(headerKey(header));
}

/** What a caller maps: a header name, or a 0-based column index. */
export type MappingInput = Record<string, string | number>;

/** A mapping resolved against a file: the 0-based column of each mapped field, and the file's columns no field took. */
export interface ResolvedMapping {
  columns: Partial<Record<SystemField, number>>;
  /** The columns nothing reads, as `columnLabel` names them. */
  unmappedColumns: string[];
}

const REQUIRED_MESSAGE = 'Map company, or both firstName and lastName: a client needs a company or both names.';

function requiredErrors(mapped: (field: SystemField) => boolean): FieldError[] {
  if (mapped('company') || (mapped('firstName') && mapped('lastName'))) return [];
  return [
    { path: 'mapping.company', message: REQUIRED_MESSAGE },
    ...(!mapped('firstName') ? [{ path: 'mapping.firstName', message: REQUIRED_MESSAGE }] : []),
    ...(!mapped('lastName') ? [{ path: 'mapping.lastName', message: REQUIRED_MESSAGE }] : []),
  ];
}

function fail(errors: FieldError[]): never {
  throw new ValidationError(errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
}

/**
 * Checks what can be checked before the file exists (`POST /v1/imports`): every key a system field, every value a
 * non-empty header name or a 0-based index, and the required fields mapped. Each problem names `mapping.<field>`.
 */
export function assertMappingShape(mapping: MappingInput): void {
  const errors: FieldError[] = [];
  for (const [field, column] of Object.entries(mapping)) {
    if (!(SYSTEM_FIELDS as readonly string[]).includes(field)) {
      errors.push({ path: `mapping.${field}`, message: `Not a system field; one of: ${SYSTEM_FIELDS.join(', ')}.` });
    } else if (typeof column === 'number' ? !Number.isSafeInteger(column) || column < 0 : typeof column !== 'string' || !column.trim()) {
      errors.push({ path: `mapping.${field}`, message: 'Must be a column name or a 0-based column index.' });
    }
  }
  errors.push(...requiredErrors((field) => mapping[field] !== undefined));
  if (errors.length) fail(errors);
}

/** The file's columns: its header names, or (no header row) just how many columns its first row has. */
export type FileColumns = { header: readonly string[] } | { count: number };

/** How errors and `unmappedColumns` name a column: its header, or its 0-based index (no header row, or a blank header). */
export function columnLabel(columns: FileColumns, index: number): string {
  const name = 'header' in columns ? columns.header[index] : undefined;
  return name?.trim() ? name : String(index);
}

function unmapped(columns: FileColumns, taken: ReadonlySet<number>): string[] {
  const count = 'header' in columns ? columns.header.length : columns.count;
  const labels: string[] = [];
  for (let i = 0; i < count; i++) if (!taken.has(i)) labels.push(columnLabel(columns, i));
  return labels;
}

/**
 * Resolves a caller's mapping against the file. A header name matches exactly, else by `headerKey`; a name two
 * columns share cannot say which is meant (map by index then). A column two fields name (both are named), a name
 * the file does not have, an index past the last column, or a name in a file without a header → ValidationError
 * naming `mapping.<field>`.
 */
export function resolveMapping(mapping: MappingInput, columns: FileColumns): ResolvedMapping {
  assertMappingShape(mapping);
  const errors: FieldError[] = [];
  const resolved: Partial<Record<SystemField, number>> = {};
  const takenBy = new Map<number, SystemField>();
  const count = 'header' in columns ? columns.header.length : columns.count;
  for (const field of SYSTEM_FIELDS) {
    const column = mapping[field];
    if (column === undefined) continue;
    const path = `mapping.${field}`;
    let index: number | undefined;
    if (typeof column === 'number') {
      if (column >= count) errors.push({ path, message: `No column ${column}: the file has ${count} (0 to ${count - 1}).` });
      else index = column;
    } else if (!('header' in columns)) {
      errors.push({ path, message: 'The file has no header row: map by 0-based column index.' });
    } else {
      const exact = columns.header.flatMap((h, i) => (h === column ? [i] : []));
      const found = exact.length ? exact : columns.header.flatMap((h, i) => (headerKey(h) === headerKey(column) ? [i] : []));
      if (found.length === 0) errors.push({ path, message: `No column named ${JSON.stringify(column)}; the file's columns: ${columns.header.join(', ')}.` });
      else if (found.length > 1) errors.push({ path, message: `${found.length} columns are named ${JSON.stringify(column)}: map by 0-based column index.` });
      else index = found[0];
    }
    if (index === undefined) continue;
    const other = takenBy.get(index);
    if (other) {
      // Both fields are named: either may be the one the caller got wrong.
      const label = JSON.stringify(columnLabel(columns, index));
      if (!errors.some((e) => e.path === `mapping.${other}`)) errors.push({ path: `mapping.${other}`, message: `Column ${label} is mapped to ${field} too.` });
      errors.push({ path, message: `Column ${label} is already mapped to ${other}.` });
      continue;
    }
    takenBy.set(index, field);
    resolved[field] = index;
  }
  if (errors.length) fail(errors);
  return { columns: resolved, unmappedColumns: unmapped(columns, new Set(takenBy.keys())) };
}

/**
 * Maps a header row by names alone (no mapping given, or a file dropped into the bucket). The first column naming
 * a field takes it; a later one naming the same field is reported unmapped, like every column naming none. Without
 * a company column or both name columns → ValidationError naming `mapping` (the import fails with that error).
 */
export function autoMapHeader(header: readonly string[]): ResolvedMapping {
  const resolved: Partial<Record<SystemField, number>> = {};
  const taken = new Set<number>();
  header.forEach((name, index) => {
    const field = fieldForHeader(name);
    if (field && resolved[field] === undefined) {
      resolved[field] = index;
      taken.add(index);
    }
  });
  if (requiredErrors((field) => resolved[field] !== undefined).length)
    throw ValidationError.field(
      'mapping',
      `No column could be matched to company, or to both firstName and lastName (the file's columns: ${header.join(', ')}). Name the columns as in the export (${EXPORT_HEADERS.company}, ${EXPORT_HEADERS.firstName}, ${EXPORT_HEADERS.lastName}) or give a mapping.`,
    );
  return { columns: resolved, unmappedColumns: unmapped({ header }, taken) };
}

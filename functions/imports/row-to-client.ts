import type { z } from 'zod';
import { hasRequiredName, type Phone } from '../domain/client.js';
import { countryCode } from '../domain/locale.js';
import { columnLabel, type FileColumns, type ResolvedMapping, type SystemField } from '../domain/import-mapping.js';
import { createClientBody } from '../clients/schemas.js';
import type { CreateClientInput } from '../clients/create-client.js';
import type { CsvRecord } from './parse-csv.js';
import { restoreCell } from './export-csv.js';

/**
 * One CSV row → the input of `createClient`, checked by the very schema `POST /v1/clients` uses (country by code or
 * English name, phone numbers, email, currency, language, number) and the same required-name rule. What is left
 * for the worker: the group (a name here, resolved to an id against the company's groups), the currency being one
 * of the company's, and the unique fields against existing clients and earlier rows.
 */

/** A problem with one row, as `GET /v1/imports/{id}/errors` lists it. */
export interface RowError {
  row: number;
  /** The file's column (its header, or its 0-based index without a header) when one cell is at fault. */
  column?: string;
  value?: string;
  message: string;
}

export type RowResult = { ok: true; row: number; input: CreateClientInput; groupName?: string } | { ok: false; row: number; errors: RowError[] };

/** Where each phone column's numbers go (documented in docs/imports.md): the export writes them back the same way. */
const PHONE_KINDS: Readonly<Record<'phone' | 'fax' | 'mobile', Omit<Phone, 'number'>>> = {
  phone: { type: 'phone', location: 'work' },
  fax: { type: 'fax', location: 'work' },
  mobile: { type: 'phone', location: 'mobile' },
};

/** Fields passed to the schema as text, under the same name. */
const TEXT_FIELDS = [
  'email',
  'company',
  'firstName',
  'lastName',
  'title',
  'address1',
  'address2',
  'city',
  'state',
  'zip',
  'country',
  'taxId',
  'currency',
  'language',
] as const satisfies readonly SystemField[];

const TRUE_WORDS = new Set(['yes', 'y', 'true', '1']);
const FALSE_WORDS = new Set(['no', 'n', 'false', '0']);

/** Country cells already looked up: a file repeats a few names thousands of times, and a name lookup is slow. */
const countryCache = new Map<string, string>();
const COUNTRY_CACHE_LIMIT = 1000;

/**
 * The code of a country cell found by the same `countryCode` the schema uses, remembered per distinct value; an
 * unknown value is passed on unchanged for the schema to refuse with its own message.
 */
function knownCountry(value: string): string {
  const cached = countryCache.get(value);
  if (cached) return cached;
  const code = countryCode(value);
  if (!code) return value;
  if (countryCache.size < COUNTRY_CACHE_LIMIT) countryCache.set(value, code);
  return code;
}

export interface RowContext {
  mapping: ResolvedMapping;
  columns: FileColumns;
}

/**
 * Reads a data row. A cell is taken as written, after undoing the export's formula neutralisation; an empty or
 * blank cell is a field not given (so a client made from it gets the default, as when the JSON field is left out).
 * Every problem of the row is reported, each naming its column and value.
 */
export function rowToClient(record: CsvRecord, { mapping, columns }: RowContext): RowResult {
  const { row } = record;
  if (record.error) return { ok: false, row, errors: [{ row, message: record.error }] };
  const errors: RowError[] = [];
  const width = 'header' in columns ? columns.header.length : columns.count;
  const extra = record.cells.slice(width).filter((c) => c.trim() !== '');
  // Cells past the last column have no name and no field: say so rather than drop them.
  if (extra.length)
    errors.push({ row, value: extra[0], message: `The row has ${record.cells.length} cells; the file has ${width} columns: a delimiter too many?` });

  const cellOf = (field: SystemField): { value: string; column: string } | undefined => {
    const index = mapping.columns[field];
    if (index === undefined) return undefined;
    const raw = record.cells[index] ?? '';
    if (raw.trim() === '') return undefined;
    return { value: restoreCell(raw), column: columnLabel(columns, index) };
  };

  const body: Record<string, unknown> = {};
  /** The system field behind each schema path (`phones.3` came from the mobile column). */
  const sourceOf = new Map<string, SystemField>();
  for (const field of TEXT_FIELDS) {
    const cell = cellOf(field);
    if (cell) {
      body[field] = field === 'country' ? knownCountry(cell.value) : cell.value;
      sourceOf.set(field, field);
    }
  }
  const number = cellOf('number');
  if (number) {
    if (/^\s*\d+\s*$/.test(number.value)) body.number = Number(number.value);
    else errors.push({ row, column: number.column, value: number.value, message: 'Must be a whole number.' });
  }
  const taxExempt = cellOf('taxExempt');
  if (taxExempt) {
    const word = taxExempt.value.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) body.taxExempt = true;
    else if (FALSE_WORDS.has(word)) body.taxExempt = false;
    else errors.push({ row, column: taxExempt.column, value: taxExempt.value, message: 'Must be yes or no (also y/n, true/false, 1/0).' });
  }
  const phones: Phone[] = [];
  for (const field of ['phone', 'fax', 'mobile'] as const) {
    const cell = cellOf(field);
    if (!cell) continue;
    for (const part of cell.value.split(';')) {
      if (!part.trim()) continue;
      sourceOf.set(`phones.${phones.length}`, field);
      phones.push({ ...PHONE_KINDS[field], number: part.trim() });
    }
  }
  if (phones.length) body.phones = phones;

  const parsed = createClientBody.safeParse(body);
  if (!parsed.success) errors.push(...issueErrors(row, parsed.error.issues, sourceOf, cellOf, phones));
  const names = { company: (body.company as string) ?? null, firstName: (body.firstName as string) ?? null, lastName: (body.lastName as string) ?? null };
  if (!hasRequiredName(names)) {
    const missing = (['company', 'firstName', 'lastName'] as const).filter((f) => !names[f]?.trim());
    const label = missing.map((f) => (mapping.columns[f] === undefined ? f : columnLabel(columns, mapping.columns[f]))).join(', ');
    errors.push({ row, message: `A client needs a company, or both a first and a last name: ${label} empty.` });
  }
  if (errors.length || !parsed.success) return { ok: false, row, errors };
  const group = cellOf('group');
  return { ok: true, row, input: parsed.data as CreateClientInput, ...(group ? { groupName: group.value.trim() } : {}) };
}

function issueErrors(
  row: number,
  issues: readonly z.core.$ZodIssue[],
  sourceOf: ReadonlyMap<string, SystemField>,
  cellOf: (field: SystemField) => { value: string; column: string } | undefined,
  phones: readonly Phone[],
): RowError[] {
  const errors: RowError[] = [];
  for (const issue of issues) {
    const key = issue.path[0] === 'phones' ? `phones.${String(issue.path[1])}` : String(issue.path[0]);
    const field = sourceOf.get(key) ?? (issue.path[0] as SystemField);
    const cell = cellOf(field);
    // A phone column may hold several numbers: the value is the one at fault.
    const value = issue.path[0] === 'phones' ? phones[Number(issue.path[1])]?.number : cell?.value;
    errors.push({ row, ...(cell ? { column: cell.column } : {}), ...(value !== undefined ? { value } : {}), message: issue.message });
  }
  return errors;
}

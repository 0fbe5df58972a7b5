import { type Options, stringify } from 'csv-stringify/sync';
import type { Client, Phone } from '../domain/client.js';
import { EXPORT_HEADERS, SYSTEM_FIELDS, type SystemField } from '../domain/import-mapping.js';

/**
 * The clients export (`GET /v1/clients/export`): one row per client under the canonical headers of
 * `EXPORT_HEADERS`, which the import maps back by itself, so an export re-imports unchanged (docs/imports.md lists
 * the little that a CSV cannot carry: phone locations other than mobile, and what is not a system field).
 */

/** A cell a spreadsheet would read as a formula (OWASP "CSV injection"): `=`, `+`, `-`, `@`, tab, CR. */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * Neutralises a cell for spreadsheets: a cell starting with a formula character gets a single quote in front (a
 * spreadsheet then shows it as text). A cell already starting with a quote gets one more, so `restoreCell` can take
 * exactly one quote off every quoted cell it meets and a value that really starts with `'=` (or `'`) survives:
 * `=1` → `'=1`, `'=1` → `''=1`, `'x` → `''x`.
 */
export function neutraliseCell(value: string): string {
  return FORMULA_START.test(value) || value.startsWith("'") ? `'${value}` : value;
}

/**
 * Undoes `neutraliseCell` on an imported cell: one leading quote is taken off when what follows starts with a
 * formula character or a quote, the only cells the export quotes. Any other cell, `'x` of a hand-made file
 * included, is kept as written.
 */
export function restoreCell(cell: string): string {
  return cell.length > 1 && cell[0] === "'" && (FORMULA_START.test(cell.slice(1)) || cell[1] === "'") ? cell.slice(1) : cell;
}

/** The column a phone is exported in: type fax → Fax, location mobile → Mobile, any other phone → Telephone. */
export function phoneColumn(phone: Phone): 'phone' | 'fax' | 'mobile' {
  if (phone.type === 'fax') return 'fax';
  return phone.location === 'mobile' ? 'mobile' : 'phone';
}

/** Several numbers in one phone column are separated by `; ` (a phone number never holds a `;`). */
export const PHONE_SEPARATOR = '; ';

export interface ExportedClient {
  client: Client;
  /** The name of the client's group (the import finds the group by name). */
  groupName: string | null;
}

/** A client's cells in `SYSTEM_FIELDS` order, before neutralisation. */
function clientCells(client: Client, groupName: string | null): Record<SystemField, string> {
  const phones = (column: 'phone' | 'fax' | 'mobile') =>
    client.phones
      .filter((p) => phoneColumn(p) === column)
      .map((p) => p.number)
      .join(PHONE_SEPARATOR);
  const text = (value: string | null) => value ?? '';
  return {
    number: String(client.number),
    email: text(client.email),
    company: text(client.company),
    firstName: text(client.firstName),
    lastName: text(client.lastName),
    title: text(client.title),
    phone: phones('phone'),
    fax: phones('fax'),
    mobile: phones('mobile'),
    address1: text(client.address1),
    address2: text(client.address2),
    city: text(client.city),
    state: text(client.state),
    zip: text(client.zip),
    country: text(client.country),
    taxId: text(client.taxId),
    taxExempt: client.taxExempt ? 'yes' : 'no',
    currency: client.currency,
    language: client.language,
    group: text(groupName),
  };
}

/**
 * CRLF as RFC 4180 and Excel write it; quotes doubled. csv-stringify quotes a cell holding the delimiter, a quote or
 * the whole record delimiter, but not a lone CR or LF, which readers (this import included) take for a line end:
 * those are quoted too, and so is a cell with spaces at either end (some readers trim unquoted cells). The error
 * report (import-errors.ts) is written the same way.
 */
export const STRINGIFY_OPTIONS: Options = { record_delimiter: 'windows', quoted_match: [/[\r\n]/, /^\s|\s$/] };

/** The header line of the export. */
export function exportHeaderLine(): string {
  return stringify([SYSTEM_FIELDS.map((f) => EXPORT_HEADERS[f])], STRINGIFY_OPTIONS);
}

/** One client as a CSV line (CRLF-terminated), every cell neutralised. */
export function exportClientLine({ client, groupName }: ExportedClient): string {
  const cells = clientCells(client, groupName);
  return stringify([SYSTEM_FIELDS.map((f) => neutraliseCell(cells[f]))], STRINGIFY_OPTIONS);
}

/**
 * The export as text pieces to stream: a UTF-8 BOM (Excel reads a CSV without one in the Windows code page and
 * garbles accented names; the import strips it), the header, then one line per client as they come.
 */
export async function* exportClientsCsv(clients: AsyncIterable<ExportedClient> | Iterable<ExportedClient>): AsyncGenerator<string> {
  yield `\uFEFF${exportHeaderLine()}`;
  for await (const exported of clients) yield exportClientLine(exported);
}

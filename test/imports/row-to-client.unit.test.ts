import fc from 'fast-check';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { autoMapHeader, EXPORT_HEADERS, resolveMapping, SYSTEM_FIELDS } from '../../functions/domain/import-mapping.js';
import { type CsvRecord, parseCsv } from '../../functions/imports/parse-csv.js';
import { type RowContext, rowToClient } from '../../functions/imports/row-to-client.js';

async function read(bytes: Uint8Array): Promise<CsvRecord[]> {
  const out: CsvRecord[] = [];
  for await (const r of parseCsv(bytes)) out.push(r);
  return out;
}

async function withHeader(file: string | Uint8Array) {
  const [header, ...rows] = await read(typeof file === 'string' ? new Uint8Array(Buffer.from(file)) : file);
  const context: RowContext = { mapping: autoMapHeader(header.cells), columns: { header: header.cells } };
  return rows.map((r) => rowToClient(r, context));
}

describe('rowToClient', () => {
  it('reads a seed-004 file: country by name or code, Telephone as a work phone', async () => {
    const results = await withHeader(
      'Client Number,Email,Business Name,First Name,Last Name,Telephone,Street Address 1,Country\r\n' +
        '17,ann@example.com,Acme Ltd,Ann,Lee,+1 555 0101,1 Main St,United States\r\n' +
        ',,Beta GmbH,,,,,de\r\n',
    );
    expect(results).toEqual([
      {
        ok: true,
        row: 2,
        input: {
          number: 17,
          email: 'ann@example.com',
          company: 'Acme Ltd',
          firstName: 'Ann',
          lastName: 'Lee',
          phones: [{ type: 'phone', location: 'work', number: '+1 555 0101' }],
          address1: '1 Main St',
          country: 'US',
        },
      },
      { ok: true, row: 3, input: { company: 'Beta GmbH', country: 'DE' } },
    ]);
  });

  it('reads a Windows-1252 file with accented names', async () => {
    const file = iconv.encode('Business Name,First Name,Last Name\r\nCafé Zürich,Renée,Müller\r\n', 'windows-1252');
    expect(await withHeader(new Uint8Array(file))).toEqual([{ ok: true, row: 2, input: { company: 'Café Zürich', firstName: 'Renée', lastName: 'Müller' } }]);
  });

  it('fax and mobile columns, several numbers per cell, taxExempt words, group by name', async () => {
    const results = await withHeader(
      'Business Name,Fax,Mobile,Tax Exempt,Group,Currency,Language\nAcme,555 0102; 555 0103,07700 900123,Y,  VIP ,eur,pt-br\nB,,,0,,,\n',
    );
    expect(results).toEqual([
      {
        ok: true,
        row: 2,
        input: {
          company: 'Acme',
          phones: [
            { type: 'fax', location: 'work', number: '555 0102' },
            { type: 'fax', location: 'work', number: '555 0103' },
            { type: 'phone', location: 'mobile', number: '07700 900123' },
          ],
          taxExempt: true,
          currency: 'EUR',
          language: 'pt-BR',
        },
        groupName: 'VIP',
      },
      { ok: true, row: 3, input: { company: 'B', taxExempt: false } },
    ]);
  });

  it('reports every problem of a row with its row, column and value; good rows are unaffected', async () => {
    const results = await withHeader(
      'Client Number,Email,Business Name,First Name,Last Name,Fax,Country,Tax Exempt\n' +
        'abc,not-an-email,Acme,,,555 0102; call me,Narnia,maybe\n' +
        '5,,,Ann,,,,\n' +
        '6,,Good Co,,,,,\n',
    );
    expect(results[0]).toEqual({
      ok: false,
      row: 2,
      errors: [
        { row: 2, column: 'Client Number', value: 'abc', message: 'Must be a whole number.' },
        { row: 2, column: 'Tax Exempt', value: 'maybe', message: expect.stringContaining('yes or no') },
        { row: 2, column: 'Country', value: 'Narnia', message: expect.stringContaining('ISO 3166-1') },
        { row: 2, column: 'Email', value: 'not-an-email', message: 'Must be an email address.' },
        { row: 2, column: 'Fax', value: 'call me', message: expect.stringContaining('Digits') },
      ],
    });
    expect(results[1]).toEqual({
      ok: false,
      row: 3,
      errors: [{ row: 3, message: 'A client needs a company, or both a first and a last name: Business Name, Last Name empty.' }],
    });
    expect(results[2]).toEqual({ ok: true, row: 4, input: { number: 6, company: 'Good Co' } });
  });

  it('a BOM file with quoted line breaks and bad rows: rows numbered from the header as row 1', async () => {
    const file = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(
        'Business Name,Email,Street Address 1\r\n' +
          '"Acme\r\nHoldings",a@example.com,"1 Main St\r\nSuite 2"\r\n' +
          'Beta,not-an-email,\r\n' +
          '"Gamma ""G""",g@example.com,\r\n' +
          ',,\r\n' +
          ',lonely@example.com,\r\n',
      ),
    ]);
    const results = await withHeader(new Uint8Array(file));
    expect(results.map((r) => (r.ok ? { row: r.row, company: r.input.company } : { row: r.row, errors: r.errors.map((e) => e.column ?? e.message) }))).toEqual([
      { row: 2, company: 'Acme\r\nHoldings' },
      { row: 3, errors: ['Email'] },
      { row: 4, company: 'Gamma "G"' },
      { row: 6, errors: [expect.stringContaining('needs a company')] },
    ]);
  });

  it('a file without a header, mapped by index; cells past the last column are reported, not dropped', async () => {
    const [first, second] = await read(new Uint8Array(Buffer.from('Acme;a@example.com;x\nBeta;b@example.com;y;extra\n')));
    const context: RowContext = { mapping: resolveMapping({ company: 0, email: 1 }, { count: 3 }), columns: { count: 3 } };
    expect(context.mapping.unmappedColumns).toEqual(['2']);
    expect(rowToClient(first, context)).toEqual({ ok: true, row: 1, input: { company: 'Acme', email: 'a@example.com' } });
    expect(rowToClient(second, context)).toEqual({
      ok: false,
      row: 2,
      errors: [{ row: 2, value: 'extra', message: expect.stringContaining('4 cells') }],
    });
  });

  it("undoes the export's formula quote only: '=1 → =1, ''x → 'x, a hand-made 'x stays", async () => {
    const results = await withHeader("Business Name,Title,City\n'=1+1,''x,'x\n");
    expect(results).toEqual([{ ok: true, row: 2, input: { company: '=1+1', title: "'x", city: "'x" } }]);
  });

  it('property: any row, however wrong, gives a client input or errors on its own row, never a throw', () => {
    const header = SYSTEM_FIELDS.map((f) => EXPORT_HEADERS[f]);
    const context: RowContext = { mapping: autoMapHeader(header), columns: { header } };
    const cell = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('', ' ', 'yes', 'France', 'usd', '12', '-1', 'a@example.com', "'=1", '+1 555 0101; x'));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.array(cell, { maxLength: header.length + 2 }), (row, cells) => {
        const result = rowToClient({ row, cells }, context);
        expect(result.row).toBe(row);
        if (!result.ok) {
          expect(result.errors.length).toBeGreaterThan(0);
          for (const e of result.errors) expect(e.row).toBe(row);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('a row the parser could not read is one error on its row', () => {
    const context: RowContext = { mapping: autoMapHeader(['Business Name']), columns: { header: ['Business Name'] } };
    expect(rowToClient({ row: 7, cells: [], error: 'A quoted field opened in this row is never closed.' }, context)).toEqual({
      ok: false,
      row: 7,
      errors: [{ row: 7, message: 'A quoted field opened in this row is never closed.' }],
    });
  });
});

import fc from 'fast-check';
import { blankClient } from '../support/blank-client.js';
import { describe, expect, it } from 'vitest';
import type { Client } from '../../functions/domain/client.js';
import { autoMapHeader } from '../../functions/domain/import-mapping.js';
import { exportClientLine, exportClientsCsv, exportHeaderLine, neutraliseCell, restoreCell } from '../../functions/imports/export-csv.js';
import { type CsvRecord, parseCsv } from '../../functions/imports/parse-csv.js';
import { rowToClient } from '../../functions/imports/row-to-client.js';

const AT = '2030-01-01T00:00:00.000Z';

function client(over: Partial<Client> = {}): Client {
  return { ...blankClient({ id: 'cl_1', groupId: 'grp_1', createdAt: AT }), number: 1001, ...over };
}

describe('neutraliseCell / restoreCell', () => {
  it('prefixes a formula start with one quote, and a quote start with one more', () => {
    expect(['=1+1', '+33 1 23', '-5', '@SUM(A1)', '\tx', '\rx', "'=1", "'x", "'", 'plain', '', 'a=b'].map(neutraliseCell)).toEqual([
      "'=1+1",
      "'+33 1 23",
      "'-5",
      "'@SUM(A1)",
      "'\tx",
      "'\rx",
      "''=1",
      "''x",
      "''",
      'plain',
      '',
      'a=b',
    ]);
  });

  it("restores the export's cells, and keeps a hand-made 'x as written", () => {
    expect(restoreCell("'=1+1")).toBe('=1+1');
    expect(restoreCell("''=1")).toBe("'=1");
    expect(restoreCell("'x")).toBe("'x");
    expect(restoreCell("'")).toBe("'");
  });

  it('property: every value survives, and no neutralised cell starts like a formula', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('=', '+', '-', '@', '\t', '\r', "'", 'a', ' ') }), (value) => {
        const cell = neutraliseCell(value);
        expect(cell).not.toMatch(/^[=+\-@\t\r]/);
        expect(restoreCell(cell)).toBe(value);
      }),
    );
  });
});

describe('export lines', () => {
  it('writes the canonical header, then each client with its phones split into Telephone, Fax and Mobile', () => {
    expect(exportHeaderLine()).toBe(
      'Client Number,Email,Business Name,First Name,Last Name,Title,Telephone,Fax,Mobile,Street Address 1,Street Address 2,City,State,Zip,Country,Tax ID,Tax Exempt,Currency,Language,Group\r\n',
    );
    const line = exportClientLine({
      client: client({
        company: 'Smith, Jones & "Sons"',
        firstName: '=HYPERLINK("x")',
        phones: [
          { type: 'phone', location: 'work', number: '+1 555 0101' },
          { type: 'fax', location: 'work', number: '555 0102' },
          { type: 'phone', location: 'home', number: '555 0103' },
          { type: 'phone', location: 'mobile', number: '555 0104' },
        ],
        country: 'FR',
        taxExempt: true,
      }),
      groupName: 'VIP',
    });
    expect(line).toBe(`1001,,"Smith, Jones & ""Sons""","'=HYPERLINK(""x"")",,,'+1 555 0101; 555 0103,555 0102,555 0104,,,,,,FR,,yes,USD,en,VIP\r\n`);
  });
});

const textChars = fc.constantFrom('a', 'Z', 'é', 'ü', 'Å', 'ß', 'ñ', '€', '中', '"', ',', ';', '|', '\n', '\r', '\t', ' ', '=', '-', '+', '@', "'", '.');
const text = fc.string({ unit: textChars, minLength: 1, maxLength: 12 }).filter((s) => s.trim() !== '');
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });
const phoneNumber = fc.constantFrom('+1 555 0101', '020 7946 0958', '+44 (0)20 7946-0958 ext 7', '555.0101 x7', '-555 0101', '(555) 0101 #2');
const email = fc
  .tuple(fc.constantFrom('', '-', '+', '_'), fc.stringMatching(/^[a-z0-9]{1,8}$/), fc.constantFrom('example.com', 'ex-ample.co.uk'))
  .map(([p, l, d]) => `${p}${l}@${d}`);

const generatedClient = fc
  .record({
    number: fc.integer({ min: 1, max: 999_999_999_999 }),
    email: maybe(email),
    company: text,
    firstName: maybe(text),
    lastName: maybe(text),
    title: maybe(text),
    address1: maybe(text),
    address2: maybe(text),
    city: maybe(text),
    state: maybe(text),
    zip: maybe(text),
    country: maybe(fc.constantFrom('FR', 'DE', 'US', 'GB', 'JP')),
    taxId: maybe(text),
    taxExempt: fc.boolean(),
    currency: fc.constantFrom('USD', 'EUR', 'JPY'),
    language: fc.constantFrom('en', 'fr', 'pt-BR', 'de'),
    work: fc.array(phoneNumber, { maxLength: 2 }),
    fax: fc.array(phoneNumber, { maxLength: 2 }),
    mobile: fc.array(phoneNumber, { maxLength: 2 }),
    groupName: maybe(text),
  })
  .map(({ work, fax, mobile, groupName, ...fields }) => ({
    groupName,
    client: client({
      ...fields,
      // The order and locations an export → import keeps (docs/imports.md).
      phones: [
        ...work.map((number) => ({ type: 'phone' as const, location: 'work' as const, number })),
        ...fax.map((number) => ({ type: 'fax' as const, location: 'work' as const, number })),
        ...mobile.map((number) => ({ type: 'phone' as const, location: 'mobile' as const, number })),
      ],
    }),
  }));

async function text2bytes(pieces: AsyncIterable<string>): Promise<Uint8Array> {
  let all = '';
  for await (const piece of pieces) all += piece;
  return new Uint8Array(Buffer.from(all, 'utf8'));
}

describe('export → import round trip', () => {
  it('property: every client field comes back (names with accents, quotes, commas, line breaks, formula starts)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(generatedClient, { minLength: 1, maxLength: 5 }), async (exported) => {
        const bytes = await text2bytes(exportClientsCsv(exported));
        const records: CsvRecord[] = [];
        for await (const r of parseCsv(bytes)) records.push(r);
        const [header, ...rows] = records;
        expect(header.row).toBe(1);
        const mapping = autoMapHeader(header.cells);
        expect(mapping.unmappedColumns).toEqual([]);
        expect(rows.map((r) => r.row)).toEqual(exported.map((_, i) => i + 2));
        rows.forEach((record, i) => {
          const { client: c, groupName } = exported[i];
          const result = rowToClient(record, { mapping, columns: { header: header.cells } });
          const given = <K extends keyof Client>(k: K) => (c[k] === null ? {} : { [k]: c[k] });
          expect(result).toEqual({
            ok: true,
            row: i + 2,
            input: {
              number: c.number,
              ...given('email'),
              ...given('company'),
              ...given('firstName'),
              ...given('lastName'),
              ...given('title'),
              ...given('address1'),
              ...given('address2'),
              ...given('city'),
              ...given('state'),
              ...given('zip'),
              ...given('country'),
              ...given('taxId'),
              ...(c.phones.length ? { phones: c.phones } : {}),
              taxExempt: c.taxExempt,
              currency: c.currency,
              language: c.language,
            },
            ...(groupName === null ? {} : { groupName: groupName.trim() }),
          });
        });
      }),
      { numRuns: 200 },
    );
  });
});

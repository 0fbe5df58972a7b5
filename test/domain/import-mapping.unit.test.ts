import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../functions/domain/errors.js';
import { assertMappingShape, autoMapHeader, EXPORT_HEADERS, fieldForHeader, resolveMapping, SYSTEM_FIELDS } from '../../functions/domain/import-mapping.js';

function pathsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).errors.map((e) => e.path);
  }
  throw new Error('expected a ValidationError');
}

describe('autoMapHeader', () => {
  it("maps seed 004's columns, in its order", () => {
    const header = ['Client Number', 'Email', 'Business Name', 'First Name', 'Last Name', 'Telephone', 'Street Address 1', 'Country'];
    expect(autoMapHeader(header)).toEqual({
      columns: { number: 0, email: 1, company: 2, firstName: 3, lastName: 4, phone: 5, address1: 6, country: 7 },
      unmappedColumns: [],
    });
  });

  it("maps Billow's own export headers back to every system field", () => {
    const header = SYSTEM_FIELDS.map((f) => EXPORT_HEADERS[f]);
    const { columns, unmappedColumns } = autoMapHeader(header);
    expect(columns).toEqual(Object.fromEntries(SYSTEM_FIELDS.map((f, i) => [f, i])));
    expect(unmappedColumns).toEqual([]);
  });

  it('ignores case, spaces, _ and - (and a BOM left on the first header)', () => {
    expect(autoMapHeader(['\uFEFFbusiness_name', 'E-MAIL', '  first-name ', 'LASTNAME', 'zip code']).columns).toEqual({
      company: 0,
      email: 1,
      firstName: 2,
      lastName: 3,
      zip: 4,
    });
  });

  it('reports the columns no field took, a second column for a taken field included', () => {
    expect(autoMapHeader(['Business Name', 'Notes', 'Email', 'E-mail', 'Shoe size'])).toEqual({
      columns: { company: 0, email: 2 },
      unmappedColumns: ['Notes', 'E-mail', 'Shoe size'],
    });
  });

  it('names a column with a blank header by its 0-based index', () => {
    expect(autoMapHeader(['Business Name', '', ' ', 'Notes']).unmappedColumns).toEqual(['1', '2', 'Notes']);
  });

  it('accepts the business name alone, or both names; refuses a header with neither, naming mapping', () => {
    expect(autoMapHeader(['Business Name']).columns).toEqual({ company: 0 });
    expect(autoMapHeader(['First Name', 'Last Name']).columns).toEqual({ firstName: 0, lastName: 1 });
    expect(pathsOf(() => autoMapHeader(['First Name', 'Email']))).toEqual(['mapping']);
  });
});

describe('fieldForHeader', () => {
  it('knows the system field names themselves', () => {
    for (const field of SYSTEM_FIELDS) expect(fieldForHeader(field)).toBe(field);
  });
});

describe('assertMappingShape', () => {
  it('accepts names and 0-based indexes', () => {
    expect(() => assertMappingShape({ company: 'Business Name', email: 0 })).not.toThrow();
  });

  it('names an unknown system field and a bad column', () => {
    expect(pathsOf(() => assertMappingShape({ company: 0, shoeSize: 3, email: -1, city: '  ', zip: 1.5 }))).toEqual([
      'mapping.shoeSize',
      'mapping.email',
      'mapping.city',
      'mapping.zip',
    ]);
  });

  it('needs company, or both names', () => {
    expect(pathsOf(() => assertMappingShape({ email: 0 }))).toEqual(['mapping.company', 'mapping.firstName', 'mapping.lastName']);
    expect(pathsOf(() => assertMappingShape({ firstName: 0 }))).toEqual(['mapping.company', 'mapping.lastName']);
    expect(() => assertMappingShape({ firstName: 0, lastName: 1 })).not.toThrow();
  });
});

describe('resolveMapping', () => {
  const header = ['Name', 'Mail', 'Given', 'Family', 'Extra'];

  it('resolves names (exact, then case- and space-insensitive) and indexes; reports the rest', () => {
    expect(resolveMapping({ company: 'Name', email: 'mail', firstName: 2, lastName: 'FAMILY' }, { header })).toEqual({
      columns: { company: 0, email: 1, firstName: 2, lastName: 3 },
      unmappedColumns: ['Extra'],
    });
  });

  it('a file without a header: indexes only, unmapped columns by index', () => {
    expect(resolveMapping({ company: 1, email: 3 }, { count: 4 })).toEqual({ columns: { company: 1, email: 3 }, unmappedColumns: ['0', '2'] });
    expect(pathsOf(() => resolveMapping({ company: 'Name' }, { count: 4 }))).toEqual(['mapping.company']);
  });

  it('names a column that does not exist, by name or by index', () => {
    expect(pathsOf(() => resolveMapping({ company: 'Nom', email: 5 }, { header }))).toEqual(['mapping.email', 'mapping.company']);
  });

  it('names both fields mapped to one column', () => {
    expect(pathsOf(() => resolveMapping({ company: 0, email: 'Name' }, { header }))).toEqual(['mapping.email', 'mapping.company']);
  });

  it('a name two columns share is ambiguous', () => {
    expect(resolveMapping({ company: 'X' }, { header: ['X', 'x'] }).columns).toEqual({ company: 0 });
    expect(pathsOf(() => resolveMapping({ company: 'Business Name', email: 'EMAIL' }, { header: ['Business Name', 'Email', 'E-mail'] }))).toEqual([
      'mapping.email',
    ]);
  });
});

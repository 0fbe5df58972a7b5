import { describe, expect, it } from 'vitest';
import { DEFAULT_IMPORT_OPTIONS, errorReportKey, importOptions, parseImportKey, safeFilename, uploadKey } from '../../functions/domain/import-job.js';

describe('parseImportKey', () => {
  it('reads an API upload back from the key the API made for it', () => {
    const key = uploadKey('co_1', 'imp_01JABCDEF', 'clients list.csv');
    expect(key).toBe('imports/co_1/imp_01JABCDEF/clients list.csv');
    expect(parseImportKey(key)).toEqual({ kind: 'upload', companyId: 'co_1', importId: 'imp_01JABCDEF', filename: 'clients list.csv' });
  });

  it('takes any other .csv under a company as a drop, named by its last segment', () => {
    expect(parseImportKey('imports/co_1/clients.csv')).toEqual({ kind: 'drop', companyId: 'co_1', filename: 'clients.csv' });
    expect(parseImportKey('imports/co_1/2026/june/Clients.CSV')).toEqual({ kind: 'drop', companyId: 'co_1', filename: 'Clients.CSV' });
    // A folder named like an import id but more deeply nested is still a drop.
    expect(parseImportKey('imports/co_1/imp_X/a/b.csv')).toEqual({ kind: 'drop', companyId: 'co_1', filename: 'b.csv' });
  });

  it('ignores what is not an import: other prefixes, folder markers, files that are not CSV, keys without a company', () => {
    for (const key of ['reports/co_1/imp_1/errors.csv', 'imports/co_1/', 'imports/co_1/notes.txt', 'imports/clients.csv', 'imports//x.csv', 'x.csv']) {
      expect(parseImportKey(key), key).toBeUndefined();
    }
  });
});

describe('keys and names', () => {
  it('puts the error report under reports/', () => {
    expect(errorReportKey('co_1', 'imp_1')).toBe('reports/co_1/imp_1/errors.csv');
  });

  it('keeps a file name to one safe key segment', () => {
    expect(safeFilename('clients.csv')).toBe('clients.csv');
    expect(safeFilename('a/b\\c.csv')).toBe('a_b_c.csv');
    expect(safeFilename('line\nbreak.csv')).toBe('line_break.csv');
    expect(safeFilename('   ')).toBe('import.csv');
    expect(safeFilename('x'.repeat(300))).toHaveLength(200);
  });
});

describe('importOptions', () => {
  it('keeps what was given and takes the defaults for the rest (an absent or undefined option)', () => {
    expect(importOptions({})).toEqual(DEFAULT_IMPORT_OPTIONS);
    expect(importOptions({ delimiter: ';', firstRowIsHeader: false, mapping: { company: 0 }, uniqueBy: 'number', dryRun: undefined })).toEqual({
      delimiter: ';',
      firstRowIsHeader: false,
      mapping: { company: 0 },
      updateExisting: false,
      uniqueBy: 'number',
      dryRun: false,
    });
  });
});

import { describe, expect, it } from 'vitest';
import { parseImportArgs, progressLine, summaryLines, UsageError, type ImportJob } from '../../bin/import.js';

describe('npm run import arguments', () => {
  it('a file alone sends only its name: the API defaults apply to the rest', () => {
    expect(parseImportArgs(['some/dir/clients.csv'])).toEqual({ file: 'some/dir/clients.csv', body: { filename: 'clients.csv' } });
  });

  it('every option, --map any number of times: digits are a 0-based index, anything else a header name', () => {
    expect(
      parseImportArgs([
        'list.csv',
        '--map',
        'email=E-mail address',
        '--map',
        'company=2',
        '--map=firstName = First ',
        '--delimiter',
        ';',
        '--no-header',
        '--update-existing',
        '--unique-by',
        'number',
        '--dry-run',
      ]),
    ).toEqual({
      file: 'list.csv',
      body: {
        filename: 'list.csv',
        mapping: { email: 'E-mail address', company: 2, firstName: 'First' },
        delimiter: ';',
        firstRowIsHeader: false,
        updateExisting: true,
        uniqueBy: 'number',
        dryRun: true,
      },
    });
  });

  it('a tab delimiter can be written as tab or \\t', () => {
    for (const written of ['tab', '\\t', '\t']) expect(parseImportArgs(['a.tsv', '--delimiter', written])).toMatchObject({ body: { delimiter: '\t' } });
    expect(parseImportArgs(['a.csv', '--delimiter', '|'])).toMatchObject({ body: { delimiter: '|' } });
  });

  it('refuses what it cannot send, saying what is wrong', () => {
    const refused = (args: string[]) => {
      try {
        parseImportArgs(args);
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError);
        return (error as Error).message;
      }
      throw new Error(`accepted ${args.join(' ')}`);
    };
    expect(refused([])).toMatch(/Give the CSV file/);
    expect(refused(['a.csv', 'b.csv'])).toMatch(/one file/);
    expect(refused(['a.csv', '--delimiter', ':'])).toMatch(/--delimiter/);
    expect(refused(['a.csv', '--map', 'email'])).toMatch(/field=column/);
    expect(refused(['a.csv', '--map', '=Email'])).toMatch(/field=column/);
    expect(refused(['a.csv', '--map', 'email=A', '--map', 'email=B'])).toMatch(/email twice/);
    expect(refused(['a.csv', '--unique-by', 'username'])).toMatch(/--unique-by/);
    expect(refused(['a.csv', '--colour'])).toMatch(/colour/);
  });

  it('--help asks for the usage', () => {
    expect(parseImportArgs(['--help'])).toBe('help');
  });
});

describe('npm run import output', () => {
  it('the progress bar fills with the processed rows once the file’s rows are known', () => {
    expect(progressLine({ status: 'queued', totalRows: null, processedRows: null })).toMatch(/^\[ +\] queued$/);
    expect(progressLine({ status: 'running', totalRows: 1000, processedRows: 500 })).toBe(`[${'#'.repeat(15)}${' '.repeat(15)}] 50% 500/1,000 rows  running`);
    expect(progressLine({ status: 'completed', totalRows: 3, processedRows: 3 })).toContain(`[${'#'.repeat(30)}] 100% 3/3 rows`);
  });

  it('the summary gives the counts, the columns no field took, and where the error report is', () => {
    const job: ImportJob = {
      id: 'imp_1',
      status: 'completed',
      dryRun: false,
      totalRows: 10,
      processedRows: 10,
      created: 6,
      updated: 1,
      skipped: 1,
      failed: 2,
      unmappedColumns: ['Notes', 'Fax 2'],
    };
    const lines = summaryLines(job, 'http://127.0.0.1:3000');
    expect(lines).toEqual([
      'Import imp_1: completed',
      '  rows 10: created 6, updated 1, skipped 1, failed 2',
      '  columns no field took (not imported): Notes, Fax 2',
      '  errors (row, column, message): http://127.0.0.1:3000/v1/imports/imp_1/errors',
      '  the rejected rows as CSV with an error column: http://127.0.0.1:3000/v1/imports/imp_1/errors?format=csv',
    ]);
    const dry = summaryLines({ ...job, dryRun: true, skipped: 0, failed: 0, unmappedColumns: [] }, 'http://x');
    expect(dry).toEqual(['Dry run imp_1 (nothing was written): completed', '  rows 10: would be created 6, would be updated 1, skipped 0, failed 0']);
    expect(summaryLines({ ...job, status: 'failed', error: 'No column matches a required field' }, 'http://x').slice(0, 2)).toEqual([
      'Import imp_1: failed',
      '  No column matches a required field',
    ]);
  });
});

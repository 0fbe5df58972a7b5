import fc from 'fast-check';
import iconv from 'iconv-lite';
import { stringify } from 'csv-stringify/sync';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../functions/domain/errors.js';
import {
  type CsvRecord,
  CsvTextDecoder,
  DELIMITERS,
  parseCsv,
  type ParseCsvOptions,
  rowAlignedRanges,
  sniffDelimiter,
} from '../../functions/imports/parse-csv.js';

const isUtf8 = (bytes: Uint8Array) => {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
};
const utf8 = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));

/** Cuts bytes into chunks of the given sizes (cycled), as a stream would deliver them. */
function chunked(bytes: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0, k = 0; at < bytes.length; k++) {
    const size = Math.max(1, sizes[k % sizes.length]);
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

async function records(source: Parameters<typeof parseCsv>[0], options?: ParseCsvOptions): Promise<CsvRecord[]> {
  const out: CsvRecord[] = [];
  for await (const r of parseCsv(source, options)) out.push(r);
  return out;
}

describe('parseCsv', () => {
  it('reads quoted fields with delimiters, doubled quotes and line breaks, CRLF; rows count records from the header', async () => {
    const file = 'Business Name,Email\r\n"Smith, Jones & Co","a@example.com"\r\n"The ""Best"" Ltd\r\nSecond floor",b@example.com\r\nLast,c@example.com';
    expect(await records(utf8(file))).toEqual([
      { row: 1, cells: ['Business Name', 'Email'] },
      { row: 2, cells: ['Smith, Jones & Co', 'a@example.com'] },
      { row: 3, cells: ['The "Best" Ltd\r\nSecond floor', 'b@example.com'] },
      { row: 4, cells: ['Last', 'c@example.com'] },
    ]);
  });

  it('skips blank lines and rows of empty cells, keeping their place in the numbering', async () => {
    expect(await records(utf8('A,B\n\n1,2\n,\n3,4\n'))).toEqual([
      { row: 1, cells: ['A', 'B'] },
      { row: 3, cells: ['1', '2'] },
      { row: 5, cells: ['3', '4'] },
    ]);
  });

  it('a quote inside an unquoted field is a character; rows may be ragged', async () => {
    expect(await records(utf8('A;B\n5" screen;x;extra\nonly\n'), { delimiter: ';' })).toEqual([
      { row: 1, cells: ['A', 'B'] },
      { row: 2, cells: ['5" screen', 'x', 'extra'] },
      { row: 3, cells: ['only'] },
    ]);
  });

  it('reports a quote never closed on its row', async () => {
    expect(await records(utf8('A,B\n1,2\n"open,3\n4,5\n'))).toEqual([
      { row: 1, cells: ['A', 'B'] },
      { row: 2, cells: ['1', '2'] },
      { row: 3, cells: [], error: expect.stringContaining('never closed') },
    ]);
  });

  it('strips a UTF-8 BOM, also before a quoted first header, and from a Readable in 1-byte chunks', async () => {
    const file = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('"Business Name",Email\nZoë,z@example.com\n')]);
    const expected = [
      { row: 1, cells: ['Business Name', 'Email'] },
      { row: 2, cells: ['Zoë', 'z@example.com'] },
    ];
    expect(await records(new Uint8Array(file))).toEqual(expected);
    expect(await records(Readable.from(chunked(new Uint8Array(file), [1])))).toEqual(expected);
    const reader = parseCsv(new Uint8Array(file));
    for await (const _ of reader);
    expect(reader.format).toEqual({ delimiter: ',', encoding: 'utf-8' });
  });

  it('streams: records come out before the source has ended', async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* source() {
      // The parser keeps the last few characters of a chunk until it sees what follows (a CR may be half of a CRLF).
      yield utf8('A,B\n1,2\n3,Acme Holdings');
      await gate;
      yield utf8(' Ltd\n');
    }
    const reader = parseCsv(source())[Symbol.asyncIterator]();
    expect((await reader.next()).value).toEqual({ row: 1, cells: ['A', 'B'] });
    expect((await reader.next()).value).toEqual({ row: 2, cells: ['1', '2'] });
    release();
    expect((await reader.next()).value).toEqual({ row: 3, cells: ['3', 'Acme Holdings Ltd'] });
    expect((await reader.next()).done).toBe(true);
  });

  it('property: any bytes read without a throw, rows increasing, each row once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 3 }), async (bytes, sizes) => {
        // Only a UTF-16 BOM is refused outright.
        fc.pre(!((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)));
        const out = await records(Readable.from(chunked(bytes, sizes)));
        for (let i = 1; i < out.length; i++) expect(out[i].row).toBeGreaterThan(out[i - 1].row);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses UTF-16 naming the file', async () => {
    await expect(records(new Uint8Array(iconv.encode('\uFEFFA,B\n', 'utf-16le')))).rejects.toThrow(ValidationError);
  });

  it('sniffs each delimiter from the header line when none is given', async () => {
    for (const d of DELIMITERS) {
      const file = `${['Business Name', 'Email', 'Country'].join(d)}\n${['"Smith, Jones; Co | \t"', 'a@example.com', 'FR'].join(d)}\n`;
      const reader = parseCsv(utf8(file));
      const out: CsvRecord[] = [];
      for await (const r of reader) out.push(r);
      expect(reader.format.delimiter).toBe(d);
      expect(out[1].cells).toEqual(['Smith, Jones; Co | \t', 'a@example.com', 'FR']);
    }
  });
});

describe('sniffDelimiter', () => {
  it('counts outside quotes; a tie or none goes to the comma', () => {
    expect(sniffDelimiter('"a;b;c",d,e')).toBe(',');
    expect(sniffDelimiter('a;b,c')).toBe(',');
    expect(sniffDelimiter('Business Name')).toBe(',');
    expect(sniffDelimiter('a|b|c,d')).toBe('|');
  });
});

describe('encoding', () => {
  const names = 'Business Name;First Name;Last Name\nCafé Zürich;Renée;Müller-Lüdenscheidt\nŒuvre;François;Gaëlle € ñ\n';

  it('reads an Excel "CSV (Comma delimited)" file in Windows-1252', async () => {
    const bytes = new Uint8Array(iconv.encode(names, 'windows-1252'));
    const reader = parseCsv(bytes);
    const out: CsvRecord[] = [];
    for await (const r of reader) out.push(r);
    expect(reader.format).toEqual({ delimiter: ';', encoding: 'windows-1252' });
    expect(out.map((r) => r.cells)).toEqual(
      names
        .trim()
        .split('\n')
        .map((l) => l.split(';')),
    );
  });

  it('decides right when the first accented letter comes after the first 64 KiB, whatever the chunking', async () => {
    const filler = Array.from({ length: 4000 }, (_, i) => `Client ${i};Ann;Lee`).join('\n');
    expect(filler.length).toBeGreaterThan(64 * 1024);
    const text = `${names.split('\n')[0]}\n${filler}\n${names.split('\n').slice(1).join('\n')}`;
    for (const encoding of ['windows-1252', 'utf-8'] as const) {
      const bytes = new Uint8Array(iconv.encode(text, encoding));
      for (const sizes of [[bytes.length], [65536], [1000, 7], [70_000]]) {
        const reader = parseCsv(Readable.from(chunked(bytes, sizes)));
        const out: CsvRecord[] = [];
        for await (const r of reader) out.push(r);
        expect(reader.format.encoding).toBe(encoding);
        expect(out.at(-2)?.cells).toEqual(['Café Zürich', 'Renée', 'Müller-Lüdenscheidt']);
        expect(out.at(-1)?.cells).toEqual(['Œuvre', 'François', 'Gaëlle € ñ']);
      }
    }
  });

  it('in a file decided UTF-8, a byte past the 64 KiB looked at that is not UTF-8 is read as Windows-1252', () => {
    const filler = 'x'.repeat(70_000);
    const bytes = Buffer.concat([Buffer.from(`Zoë ${filler}`, 'utf8'), iconv.encode('Renée ', 'windows-1252'), Buffer.from('€', 'utf8')]);
    for (const sizes of [[bytes.length], [1], [5, 2], [65_536]]) {
      const decoder = new CsvTextDecoder();
      const text =
        chunked(new Uint8Array(bytes), sizes)
          .map((c) => decoder.write(c))
          .join('') + decoder.end();
      expect(decoder.encoding).toBe('utf-8');
      expect(text).toBe(`Zoë ${filler}Renée €`);
    }
  });

  it('within the 64 KiB looked at, one byte that is not UTF-8 makes the file Windows-1252', () => {
    const bytes = iconv.encode('Ã© Renée', 'windows-1252');
    const decoder = new CsvTextDecoder();
    expect(decoder.write(new Uint8Array(bytes)) + decoder.end()).toBe('Ã© Renée');
    expect(decoder.encoding).toBe('windows-1252');
  });

  it('property: any text in UTF-8 (with or without BOM), or in Windows-1252 bytes that are not UTF-8 by chance, decodes back', () => {
    const win1252 = fc.constantFrom(...'abc XYZ,;"\n\r\téèàçñüöÆØÅœŒ€…«»°£¥©'.split(''));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: win1252, maxLength: 200 }).map((s) => ({ s, encoding: 'windows-1252' as const })),
          fc.string({ unit: 'grapheme', maxLength: 200 }).map((s) => ({ s, encoding: 'utf-8' as const })),
        ),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 }),
        ({ s, encoding }, bom, sizes) => {
          const withBom = bom && encoding === 'utf-8';
          const bytes = new Uint8Array(Buffer.concat([withBom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0), iconv.encode(s, encoding)]));
          // Windows-1252 bytes that happen to be valid UTF-8 ("à£»") cannot be told apart: the documented limit.
          if (encoding === 'windows-1252') fc.pre(!isUtf8(bytes));
          const decoder = new CsvTextDecoder();
          const text =
            chunked(bytes, sizes)
              .map((c) => decoder.write(c))
              .join('') + decoder.end();
          expect(text).toBe(s);
        },
      ),
    );
  });
});

describe('rowAlignedRanges', () => {
  it('splits only at record ends, never inside a quoted field, and knows each range first row', async () => {
    const file = utf8('A,B\n"x\ny\nz",1\n2,3\n"4\n",5\n6,7');
    const { ranges, format } = await rowAlignedRanges(file, { chunkSize: 3 });
    expect(format).toEqual({ delimiter: ',', encoding: 'utf-8' });
    expect(ranges).toEqual([
      { start: 0, end: 4, firstRow: 1, records: 1 },
      { start: 4, end: 14, firstRow: 2, records: 1 },
      { start: 14, end: 18, firstRow: 3, records: 1 },
      { start: 18, end: 25, firstRow: 4, records: 1 },
      { start: 25, end: 28, firstRow: 5, records: 1 },
    ]);
  });

  it('a BOM before a quoted first header with a line break: the header stays one record', async () => {
    const file = new Uint8Array(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('"Business\nName",Email\nAcme,a@example.com\n')]));
    const { ranges } = await rowAlignedRanges(file, { chunkSize: 1 });
    expect(ranges).toEqual([
      { start: 0, end: 25, firstRow: 1, records: 1 },
      { start: 25, end: 44, firstRow: 2, records: 1 },
    ]);
    expect(await records(file.subarray(25), { delimiter: ',', encoding: 'utf-8', firstRow: 2, atFileStart: false })).toEqual([
      { row: 2, cells: ['Acme', 'a@example.com'] },
    ]);
  });

  it('a file smaller than a chunk is one range', async () => {
    expect((await rowAlignedRanges(utf8('A\n1\n'), { chunkSize: 1000 })).ranges).toEqual([{ start: 0, end: 4, firstRow: 1, records: 2 }]);
  });

  it('counts the records each range yields: blank rows and rows of empty cells are not counted', async () => {
    const file = utf8('A,B\n\n,\n"",""\n"",x\n""""\n');
    expect((await records(file)).map((r) => r.row)).toEqual([1, 5, 6]);
    expect((await rowAlignedRanges(file, { chunkSize: 1000 })).ranges).toEqual([{ start: 0, end: 23, firstRow: 1, records: 3 }]);
  });

  const cell = fc.oneof(
    fc.string({ unit: fc.constantFrom('a', 'é', '"', ',', ';', '\n', '\r', ' ', '€', '=', "'"), maxLength: 6 }),
    fc.constantFrom('', '""', '"', '\r\n'),
  );

  it('property: the ranges parsed one by one give the records of the whole file, row numbers included', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(cell, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 12 }),
        fc.constantFrom(...DELIMITERS),
        fc.constantFrom('\n', '\r\n', '\r'),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 3 }),
        async (rows, delimiter, eol, bom, finalEol, chunkSize, sizes) => {
          let text = stringify([['Business Name', 'Email'], ...rows], {
            delimiter,
            record_delimiter: eol === '\r' ? 'mac' : eol === '\n' ? 'unix' : 'windows',
          });
          if (!finalEol) text = text.slice(0, -eol.length);
          const bytes = new Uint8Array(Buffer.concat([bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0), Buffer.from(text, 'utf8')]));
          const whole = await records(bytes, { delimiter });
          const { ranges, format } = await rowAlignedRanges(Readable.from(chunked(bytes, sizes)), { chunkSize, delimiter });
          expect(ranges[0].start).toBe(0);
          expect(ranges.at(-1)?.end).toBe(bytes.length);
          const parts: CsvRecord[] = [];
          for (const r of ranges) {
            expect(r.end).toBeGreaterThan(r.start);
            const got = await records(bytes.subarray(r.start, r.end), { ...format, firstRow: r.firstRow, atFileStart: r.start === 0 });
            expect(got).toHaveLength(r.records);
            parts.push(...got);
          }
          expect(parts).toEqual(whole);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: hand-written (not RFC) quoting splits the same way the parser reads it', async () => {
    const raw = fc.string({ unit: fc.constantFrom('a', '"', ',', '\n', '\r', 'é'), maxLength: 60 });
    await fc.assert(
      fc.asyncProperty(raw, fc.integer({ min: 1, max: 10 }), async (text, chunkSize) => {
        const bytes = utf8(`A,B\n${text}`);
        const whole = await records(bytes, { delimiter: ',' });
        const { ranges, format } = await rowAlignedRanges(bytes, { chunkSize, delimiter: ',' });
        const parts: CsvRecord[] = [];
        for (const r of ranges) parts.push(...(await records(bytes.subarray(r.start, r.end), { ...format, firstRow: r.firstRow, atFileStart: r.start === 0 })));
        // A quote never closed stops the reading: compare up to that row.
        const upTo = whole.findIndex((r) => r.error);
        if (upTo === -1) {
          expect(parts).toEqual(whole);
          expect(ranges.reduce((n, r) => n + r.records, 0)).toBe(whole.length);
        } else expect(parts.slice(0, upTo)).toEqual(whole.slice(0, upTo));
      }),
      { numRuns: 300 },
    );
  });
});

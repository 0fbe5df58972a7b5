import { Readable } from 'node:stream';
import { type CsvError, type Options, parse } from 'csv-parse';
import iconv from 'iconv-lite';
import { ValidationError } from '../domain/errors.js';
import { DELIMITERS, type Delimiter } from './csv-delimiters.js';

/**
 * Streaming CSV reading for client imports (docs/imports.md): bytes in, records out with their row numbers, never
 * the whole file in memory. What Excel and the peers' users actually produce is read: a UTF-8 BOM ("CSV UTF-8"),
 * Windows-1252 text ("CSV (Comma delimited)"), `,` `;` tab or `|`, CRLF, LF or CR line ends, quoted fields with
 * delimiters, doubled quotes and line breaks. The byte-range splitter below lets parallel workers read one file.
 */

export { DELIMITERS, type Delimiter };
export type CsvEncoding = 'utf-8' | 'windows-1252';

/** How a file is written: what a worker reading one byte range of it must be told. */
export interface CsvFormat {
  delimiter: Delimiter;
  encoding: CsvEncoding;
}

/**
 * One record. `row` is its place in the file counting from 1 with the header line (a data row k is row k + 1): the
 * record's index, not a line number, so a row whose quoted field holds a line break is still one row. Blank records
 * (an empty line, or only empty cells) are never yielded but keep their place in the count, as in a spreadsheet.
 * `error` is set (and `cells` empty) for a record the parser could not read (a quote never closed swallows the
 * rest of the file into it).
 */
export interface CsvRecord {
  row: number;
  cells: string[];
  error?: string;
}

export interface ParseCsvOptions {
  /** Sniffed from the first line when absent (see `sniffDelimiter`). */
  delimiter?: Delimiter;
  /** Detected when absent (see `CsvTextDecoder`); a worker reading a byte range gets the file's. */
  encoding?: CsvEncoding;
  /** The row number of the first record: 1 for a whole file, `CsvRange.firstRow` for a range. */
  firstRow?: number;
  /** A range that does not start the file has no BOM to strip (a value may begin with U+FEFF). Default true. */
  atFileStart?: boolean;
}

/** The largest record read (a quote never closed would otherwise swallow the whole file into memory). */
const MAX_RECORD_BYTES = 1024 * 1024;
/** Bytes looked at past the first non-ASCII byte before the encoding is decided. */
const ENCODING_LOOKAHEAD = 64 * 1024;
/** How far the first line is looked for when sniffing the delimiter. */
const SNIFF_LIMIT = 64 * 1024;

/**
 * The delimiter of a file, from its first line: the candidate (`,` `;` tab `|`) found most often outside quotes;
 * a tie goes to the earlier in that list, none found (a one-column file) to `,`. The header line is the best sample:
 * header names rarely hold a delimiter, while data cells ("Smith, Jones & Co") often do. Excel writes `;` in locales
 * whose decimal separator is a comma, and re-saving a file can switch it.
 */
export function sniffDelimiter(firstLine: string): Delimiter {
  const counts = new Map<string, number>(DELIMITERS.map((d) => [d, 0]));
  let quoted = false;
  for (const ch of firstLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && counts.has(ch)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  }
  let best: Delimiter = ',';
  for (const d of DELIMITERS) if ((counts.get(d) ?? 0) > (counts.get(best) ?? 0)) best = d;
  return best;
}

/** Where the first line ends (the first CR or LF outside quotes), or -1 when not within the text. */
function firstLineEnd(text: string): number {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === '\n' || ch === '\r')) return i;
  }
  return -1;
}

/**
 * The length of the well-formed UTF-8 sequence at `i` (Unicode Table 3-7: no overlongs, surrogates or code points
 * past U+10FFFF); 0 when the bytes there are not one; -1 when they could still become one with more bytes.
 */
function utf8SequenceLength(bytes: Uint8Array, i: number): number {
  const b = bytes[i];
  if (b < 0x80) return 1;
  let length: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) length = 2;
  else if (b >= 0xe0 && b <= 0xef) {
    length = 3;
    if (b === 0xe0) lo = 0xa0;
    if (b === 0xed) hi = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    length = 4;
    if (b === 0xf0) lo = 0x90;
    if (b === 0xf4) hi = 0x8f;
  } else return 0;
  for (let k = 1; k < length; k++) {
    if (i + k >= bytes.length) return -1;
    const c = bytes[i + k];
    if (c < (k === 1 ? lo : 0x80) || c > (k === 1 ? hi : 0xbf)) return 0;
  }
  return length;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes UTF-8; a byte that is not part of a well-formed sequence is read as Windows-1252 (a file pasted together
 * from a UTF-8 and an Excel part keeps both parts' names). Returns the text and the bytes of a sequence cut by the
 * end of `bytes`, to be prefixed to the next chunk (none when `final`).
 */
function decodeUtf8(bytes: Uint8Array, final: boolean): { text: string; rest: Uint8Array } {
  let cut = bytes.length;
  if (!final)
    for (let i = Math.max(0, bytes.length - 3); i < bytes.length; i++)
      if (bytes[i] >= 0xc0 && utf8SequenceLength(bytes, i) === -1) {
        cut = i;
        break;
      }
  const whole = bytes.subarray(0, cut);
  const rest = bytes.slice(cut);
  try {
    return { text: utf8.decode(whole), rest };
  } catch {
    // The rare mixed file: walk it sequence by sequence.
    let text = '';
    let runStart = 0;
    let i = 0;
    while (i < whole.length) {
      const length = utf8SequenceLength(whole, i);
      if (length > 0) {
        i += length;
        continue;
      }
      text += utf8.decode(whole.subarray(runStart, i)) + iconv.decode(Buffer.from(whole.subarray(i, i + 1)), 'windows-1252');
      i += 1;
      runStart = i;
    }
    return { text: text + utf8.decode(whole.subarray(runStart)), rest };
  }
}

function isUtf8(bytes: Uint8Array, final: boolean): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: !final });
    return true;
  } catch {
    return false;
  }
}

/**
 * Bytes → text, streaming, the encoding decided once per file:
 * - a UTF-8 BOM is stripped and the file is UTF-8; a UTF-16 BOM is refused (Excel's "Unicode Text": save as CSV);
 * - while the file has been ASCII so far, nothing needs deciding: ASCII reads the same in UTF-8 and Windows-1252,
 *   so text is passed on undecided, however far into the file the first accented letter comes;
 * - at the first non-ASCII byte, that byte and up to 64 KiB after it are checked with a fatal UTF-8 decoder: valid
 *   → UTF-8, else Windows-1252 for the whole file (Excel's "CSV (Comma delimited)" on Western-European Windows).
 *   Windows-1252 text is almost never valid UTF-8 by chance (an accented letter followed by an ASCII one is not),
 *   and 64 KiB of evidence instead of one sequence makes that rarer still.
 * In a file decided UTF-8, a later byte that is not UTF-8 is read as Windows-1252 rather than replaced or refused.
 */
export class CsvTextDecoder {
  #encoding: CsvEncoding | undefined;
  /** Bytes held back: a BOM not yet complete, or a UTF-8 sequence cut by a chunk's end. */
  #pending: Uint8Array = new Uint8Array(0);
  /** The bytes from the first non-ASCII one on, while fewer than ENCODING_LOOKAHEAD arrived to decide on. */
  #lookahead: Uint8Array[] = [];
  #lookaheadBytes = 0;
  #bomChecked: boolean;

  constructor(options: { encoding?: CsvEncoding; atFileStart?: boolean } = {}) {
    this.#encoding = options.encoding;
    this.#bomChecked = options.atFileStart === false;
  }

  /** The file's encoding once decided (a file of ASCII only stays undecided until its end, then UTF-8). */
  get encoding(): CsvEncoding | undefined {
    return this.#encoding;
  }

  write(chunk: Uint8Array): string {
    return this.#decode(chunk, false);
  }

  end(): string {
    return this.#decode(new Uint8Array(0), true);
  }

  #decode(chunk: Uint8Array, final: boolean): string {
    if (this.#lookahead.length) {
      // Waiting for 64 KiB past the first non-ASCII byte: gather chunks, joined once (not once per chunk).
      this.#lookahead.push(chunk);
      this.#lookaheadBytes += chunk.length;
      if (this.#lookaheadBytes < ENCODING_LOOKAHEAD && !final) return '';
      chunk = Buffer.concat(this.#lookahead.splice(0));
      this.#lookaheadBytes = 0;
    }
    let bytes = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#pending = new Uint8Array(0);
    if (!this.#bomChecked) {
      if (bytes.length < 3 && !final) {
        this.#pending = bytes;
        return '';
      }
      this.#bomChecked = true;
      if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
        bytes = bytes.subarray(3);
        this.#encoding ??= 'utf-8';
      } else if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
        throw ValidationError.field('file', 'The file is UTF-16 (Excel "Unicode Text"); save it as "CSV UTF-8" or "CSV (Comma delimited)".');
    }
    let text = '';
    if (!this.#encoding) {
      let first = bytes.findIndex((b) => b >= 0x80);
      if (first === -1) first = bytes.length;
      text = Buffer.from(bytes.buffer, bytes.byteOffset, first).toString('latin1');
      bytes = bytes.subarray(first);
      if (bytes.length === 0) {
        if (final) this.#encoding = 'utf-8';
        return text;
      }
      if (bytes.length < ENCODING_LOOKAHEAD && !final) {
        this.#lookahead.push(bytes.slice());
        this.#lookaheadBytes = bytes.length;
        return text;
      }
      this.#encoding = isUtf8(bytes.subarray(0, ENCODING_LOOKAHEAD), final && bytes.length <= ENCODING_LOOKAHEAD) ? 'utf-8' : 'windows-1252';
    }
    if (this.#encoding === 'windows-1252') return text + iconv.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), 'windows-1252');
    const decoded = decodeUtf8(bytes, final);
    this.#pending = decoded.rest;
    return text + decoded.text;
  }
}

function toAsyncIterable(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array): AsyncIterable<Uint8Array> | Iterable<Uint8Array> {
  return source instanceof Uint8Array ? [source] : source;
}

/**
 * Reads CSV records from bytes (a Node Readable, an S3 body, any async iterable of chunks, or one buffer). Iterate
 * it for the records; `format` is known once the first record came (or the file ended). Cells are strings as
 * written (quotes removed, nothing trimmed); rows may have any number of cells.
 */
export class CsvReader implements AsyncIterable<CsvRecord> {
  #format: Partial<CsvFormat> = {};

  constructor(
    private readonly source: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array,
    private readonly options: ParseCsvOptions = {},
  ) {}

  get format(): Partial<CsvFormat> {
    return this.#format;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<CsvRecord> {
    const decoder = new CsvTextDecoder({ encoding: this.options.encoding, atFileStart: this.options.atFileStart });
    const format = this.#format;
    format.delimiter = this.options.delimiter;
    const source = toAsyncIterable(this.source);
    // The text, with the delimiter sniffed from the first line before any of it reaches the parser.
    const text = async function* (): AsyncGenerator<string> {
      let head = '';
      const sniff = (final: boolean): string | undefined => {
        if (format.delimiter) return undefined;
        const end = firstLineEnd(head);
        if (end === -1 && !final && head.length < SNIFF_LIMIT) return undefined;
        format.delimiter = sniffDelimiter(end === -1 ? head : head.slice(0, end));
        return head;
      };
      for await (const chunk of source) {
        const part = decoder.write(chunk);
        if (!format.delimiter) {
          head += part;
          const ready = sniff(false);
          if (ready?.length) yield ready;
        } else if (part.length) yield part;
        format.encoding ??= decoder.encoding;
      }
      const last = decoder.end();
      format.encoding ??= decoder.encoding;
      if (!format.delimiter) {
        head += last;
        const ready = sniff(true);
        if (ready) yield ready;
      } else if (last.length) yield last;
    };
    const texts = text();
    // The parser needs the delimiter before its first byte: pull text until it is known.
    const first = await texts.next();
    const firstRow = this.options.firstRow ?? 1;
    // Records are numbered as the parser meets them (in order, synchronously), so a record it skips for an error still
    // takes its row, and the error is yielded in its place.
    let index = 0;
    const errors: CsvRecord[] = [];
    const options: Options<CsvRecord, string[]> = {
      delimiter: format.delimiter ?? ',',
      // Every line end a spreadsheet writes, the same the range splitter counts.
      record_delimiter: ['\r\n', '\n', '\r'],
      // A quote inside an unquoted field is a character (`5" screen`), and text after a closing quote joins the field.
      relax_quotes: true,
      relax_column_count: true,
      skip_empty_lines: false,
      max_record_size: MAX_RECORD_BYTES,
      skip_records_with_error: true,
      on_record: (cells: string[]): CsvRecord => ({ row: firstRow + index++, cells }),
      on_skip: (error: CsvError | undefined) => {
        errors.push({ row: firstRow + index++, cells: [], error: parseErrorMessage(error) });
        return undefined;
      },
    };
    // csv-parse's typings allow a record type of one's own only together with `columns`; `on_record` returns ours.
    const parser = parse(options as unknown as Options);
    const input = Readable.from(
      (async function* () {
        if (!first.done) yield first.value;
        yield* texts;
      })(),
    );
    input.on('error', (error) => parser.destroy(error));
    input.pipe(parser);
    try {
      for await (const record of parser as AsyncIterable<CsvRecord>) {
        while (errors.length && errors[0].row < record.row) yield errors.shift() as CsvRecord;
        if (record.cells.some((c) => c !== '')) yield record;
      }
      yield* errors;
    } finally {
      input.destroy();
    }
  }
}

function parseErrorMessage(error: CsvError | undefined): string {
  switch (error?.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'A quoted field opened in this row is never closed: the rest of the file cannot be read.';
    case 'CSV_MAX_RECORD_SIZE':
      return `This row is longer than ${MAX_RECORD_BYTES} characters (a quote never closed?).`;
    default:
      return `This row cannot be read as CSV: ${error?.message ?? 'unknown error'}`;
  }
}

/** Reads every record of `source`: `new CsvReader(source, options)`. */
export function parseCsv(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array, options: ParseCsvOptions = {}): CsvReader {
  return new CsvReader(source, options);
}

/** A byte range of a file that holds whole records, and the row number of its first record. */
export interface CsvRange {
  start: number;
  /** Exclusive. */
  end: number;
  firstRow: number;
  /** How many records the reader yields from the range (blank ones are not; the header, in the first range, is). */
  records: number;
}

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const BOM = [0xef, 0xbb, 0xbf];

/**
 * Finds the record ends of a file as the parser sees them (`relax_quotes`, `\r\n` `\n` `\r`), streaming. Whether a
 * line break ends a record depends on whether a quoted field is open there, which depends on every quote since the
 * start of the file: any window of bytes may be the inside of a long quoted field (`"…\nA,B\n…"` looks like two
 * records), so a split point cannot be found by looking near it; the scan keeps the quote state from byte 0.
 * The delimiter, quote and line-end bytes are ASCII, which never occurs inside a UTF-8 or Windows-1252 multi-byte
 * letter, so the scan needs no decoding.
 */
export class RecordBoundaryScanner {
  /** Records ended so far (blank ones included, as the reader counts them). */
  records = 0;
  /** Of those, the ones the reader yields: not blank (some cell not empty), or a quote never closed (an error row). */
  contentRecords = 0;
  #hasContent = false;
  #state: 'fieldStart' | 'unquoted' | 'quoted' | 'quotedQuote' | 'cr' = 'fieldStart';
  #offset = 0;
  /** How many bytes of a BOM the file began with (3 once past it, or when not at the file's start). */
  #bomMatched: number;
  #delimiter: number;

  constructor(
    delimiter: Delimiter,
    /** Called with the offset just past each record's end. */
    private readonly onRecordEnd: (offset: number, records: number, contentRecords: number) => void,
    atFileStart = true,
  ) {
    this.#delimiter = delimiter.charCodeAt(0);
    this.#bomMatched = atFileStart ? 0 : 3;
  }

  /** Bytes read so far. */
  get offset(): number {
    return this.#offset;
  }

  write(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length; i++) {
      const at = this.#offset + i;
      // A BOM is no part of the first field (it would hide a quote opening it); bytes that only began like one are.
      if (this.#bomMatched === at && at < 3 && chunk[i] === BOM[at]) {
        this.#bomMatched++;
        continue;
      }
      if (this.#bomMatched > 0 && this.#bomMatched < 3) {
        this.#state = 'unquoted';
        this.#lineHasBytes = true;
        this.#hasContent = true;
      }
      this.#bomMatched = 3;
      this.#byte(chunk[i], at);
    }
    this.#offset += chunk.length;
  }

  /** The last record, when the file does not end with a line break. */
  end(): void {
    if (this.#bomMatched > 0 && this.#bomMatched < 3) this.#lineHasBytes = this.#hasContent = true;
    if (this.#state === 'quoted') this.#hasContent = true;
    if (this.#state !== 'fieldStart' || this.#lineHasBytes) this.#recordEnd(this.#offset);
  }

  #lineHasBytes = false;

  #recordEnd(offset: number): void {
    this.records++;
    if (this.#hasContent) this.contentRecords++;
    this.#state = 'fieldStart';
    this.#lineHasBytes = false;
    this.#hasContent = false;
    this.onRecordEnd(offset, this.records, this.contentRecords);
  }

  #byte(b: number, at: number): void {
    switch (this.#state) {
      case 'cr':
        if (b === LF) {
          this.#recordEnd(at + 1);
          return;
        }
        this.#recordEnd(at);
        this.#byte(b, at);
        return;
      case 'quoted':
        if (b === QUOTE) this.#state = 'quotedQuote';
        else this.#hasContent = true;
        return;
      case 'quotedQuote':
        // A doubled quote stays inside; anything else closes the field (relax_quotes reads text after it as part of the field).
        if (b === QUOTE) {
          this.#state = 'quoted';
          this.#hasContent = true;
          return;
        }
        this.#state = 'unquoted';
        this.#byte(b, at);
        return;
      default:
        if (b === LF) {
          this.#recordEnd(at + 1);
          return;
        }
        if (b === CR) {
          this.#state = 'cr';
          return;
        }
        this.#lineHasBytes = true;
        if (b === this.#delimiter) this.#state = 'fieldStart';
        else if (b === QUOTE && this.#state === 'fieldStart') this.#state = 'quoted';
        else {
          this.#state = 'unquoted';
          this.#hasContent = true;
        }
    }
  }
}

/**
 * Splits a file into byte ranges of about `chunkSize` bytes (at least that, up to the next record end), each of
 * whole records, so parallel workers can parse ranges independently (`parseCsv(range bytes, { ...format, firstRow,
 * atFileStart: start === 0 })`). Streams the file once; also returns its format (delimiter from the first line
 * unless given, encoding as `CsvTextDecoder` decides it), which every range must be read with.
 */
export async function rowAlignedRanges(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array,
  options: { chunkSize: number; delimiter?: Delimiter },
): Promise<{ ranges: CsvRange[]; format: CsvFormat }> {
  if (!Number.isSafeInteger(options.chunkSize) || options.chunkSize < 1) throw new RangeError('chunkSize must be a positive integer.');
  const decoder = new CsvTextDecoder();
  let delimiter = options.delimiter;
  let head = '';
  const held: Uint8Array[] = [];
  const starts: Array<{ start: number; firstRow: number; contentBefore: number }> = [{ start: 0, firstRow: 1, contentBefore: 0 }];
  let scanner: RecordBoundaryScanner | undefined;
  const start = (d: Delimiter) => {
    delimiter = d;
    scanner = new RecordBoundaryScanner(d, (offset, records, contentRecords) => {
      if (offset - starts[starts.length - 1].start >= options.chunkSize) starts.push({ start: offset, firstRow: records + 1, contentBefore: contentRecords });
    });
    for (const chunk of held.splice(0)) scanner.write(chunk);
  };
  if (delimiter) start(delimiter);
  for await (const chunk of toAsyncIterable(source)) {
    if (!decoder.encoding || !delimiter) {
      const text = decoder.write(chunk);
      if (!delimiter) {
        head += text;
        const end = firstLineEnd(head);
        if (end !== -1 || head.length >= SNIFF_LIMIT) start(sniffDelimiter(end === -1 ? head : head.slice(0, end)));
      }
    }
    if (scanner) scanner.write(chunk);
    else held.push(chunk);
  }
  if (!decoder.encoding) head += decoder.end();
  if (!scanner) start(sniffDelimiter(head));
  const done = scanner as unknown as RecordBoundaryScanner;
  done.end();
  const total = done.offset;
  if (starts.length > 1 && starts[starts.length - 1].start >= total) starts.pop();
  const ranges = starts.map((s, i) => {
    const next = starts[i + 1];
    return {
      start: s.start,
      end: next ? next.start : total,
      firstRow: s.firstRow,
      records: (next ? next.contentBefore : done.contentRecords) - s.contentBefore,
    };
  });
  return { ranges, format: { delimiter: delimiter ?? ',', encoding: decoder.encoding ?? 'utf-8' } };
}

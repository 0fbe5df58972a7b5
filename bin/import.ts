// `npm run import -- FILE.csv [--map field=column ...] [--delimiter ';'] [--no-header] [--update-existing]
// [--unique-by email|number] [--dry-run]`: imports a CSV of clients into the local demo company through the API of a
// running `npm start`, the way a web app would (create the import, PUT the file to its presigned URL), shows a
// progress bar until the import ends, then prints the counts and where the error report is.
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export const USAGE =
  "Usage: npm run import -- FILE.csv [--map field=column ...] [--delimiter ',' | ';' | tab | '|'] [--no-header] [--update-existing] [--unique-by email|number] [--dry-run]";

/** The body of `POST /v1/imports` the arguments ask for, and the file to upload. */
export interface ImportRequest {
  file: string;
  body: {
    filename: string;
    delimiter?: string;
    firstRowIsHeader?: boolean;
    mapping?: Record<string, string | number>;
    updateExisting?: boolean;
    uniqueBy?: 'email' | 'number';
    dryRun?: boolean;
  };
}

/** A command line the import cannot run with; the message says what to change. */
export class UsageError extends Error {}

const DELIMITERS: Record<string, string> = { ',': ',', ';': ';', '|': '|', '\t': '\t', tab: '\t', '\\t': '\t' };

/**
 * Reads the command line (after `--`). `--map field=column` may be given any number of times; a column of digits only
 * is a 0-based index (what a file without a header needs), anything else a header name. Only what was given is sent:
 * the API's defaults apply to the rest.
 */
export function parseImportArgs(args: string[]): ImportRequest | 'help' {
  let parsed: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        map: { type: 'string', multiple: true },
        delimiter: { type: 'string' },
        'no-header': { type: 'boolean', default: false },
        'update-existing': { type: 'boolean', default: false },
        'unique-by': { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  }
  try {
    parsed = parse();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `Give one file, not ${positionals.length}.` : 'Give the CSV file to import.');
  const file = positionals[0];
  const body: ImportRequest['body'] = { filename: basename(file) };
  if (values.delimiter !== undefined) {
    const delimiter = DELIMITERS[values.delimiter];
    if (!delimiter) throw new UsageError(`--delimiter must be one of , ; tab |, not '${values.delimiter}'.`);
    body.delimiter = delimiter;
  }
  if (values['no-header']) body.firstRowIsHeader = false;
  if (values.map?.length) {
    const mapping: Record<string, string | number> = {};
    for (const entry of values.map) {
      const at = entry.indexOf('=');
      const field = at === -1 ? '' : entry.slice(0, at).trim();
      const column = at === -1 ? '' : entry.slice(at + 1).trim();
      if (!field || !column) throw new UsageError(`--map takes field=column (a header name or a 0-based index), not '${entry}'.`);
      if (field in mapping) throw new UsageError(`--map names ${field} twice.`);
      mapping[field] = /^\d+$/.test(column) ? Number(column) : column;
    }
    body.mapping = mapping;
  }
  if (values['update-existing']) body.updateExisting = true;
  if (values['unique-by'] !== undefined) {
    if (values['unique-by'] !== 'email' && values['unique-by'] !== 'number')
      throw new UsageError(`--unique-by must be email or number, not '${values['unique-by']}'.`);
    body.uniqueBy = values['unique-by'];
  }
  if (values['dry-run']) body.dryRun = true;
  return { file, body };
}

/** What `GET /v1/imports/{id}` answers (the fields this command shows). */
export interface ImportJob {
  id: string;
  status: 'awaiting_upload' | 'queued' | 'running' | 'completed' | 'failed';
  dryRun: boolean;
  totalRows: number | null;
  processedRows: number | null;
  created: number;
  updated: number;
  skipped: number;
  failed: number;
  error?: string | null;
  unmappedColumns?: string[] | null;
}

const BAR_WIDTH = 30;

/** One line of progress: a bar of processed rows out of the file's rows once they are known. */
export function progressLine(job: Pick<ImportJob, 'status' | 'totalRows' | 'processedRows'>): string {
  const total = job.totalRows ?? 0;
  const done = Math.min(job.processedRows ?? 0, total);
  if (!job.totalRows) return `[${' '.repeat(BAR_WIDTH)}] ${job.status}`;
  const filled = Math.round((done / total) * BAR_WIDTH);
  const percent = Math.floor((done / total) * 100);
  return `[${'#'.repeat(filled)}${' '.repeat(BAR_WIDTH - filled)}] ${percent}% ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} rows  ${job.status}`;
}

/** The summary printed when the import has ended. */
export function summaryLines(job: ImportJob, apiUrl: string): string[] {
  const lines: string[] = [];
  const title = job.dryRun ? `Dry run ${job.id} (nothing was written): ${job.status}` : `Import ${job.id}: ${job.status}`;
  lines.push(title);
  if (job.error) lines.push(`  ${job.error}`);
  if (job.status === 'completed') {
    const verb = job.dryRun ? 'would be ' : '';
    lines.push(`  rows ${job.totalRows ?? 0}: ${verb}created ${job.created}, ${verb}updated ${job.updated}, skipped ${job.skipped}, failed ${job.failed}`);
  }
  if (job.unmappedColumns?.length) lines.push(`  columns no field took (not imported): ${job.unmappedColumns.join(', ')}`);
  if (job.failed > 0 || job.skipped > 0) {
    const errors = `${apiUrl}/v1/imports/${job.id}/errors`;
    lines.push(`  errors (row, column, message): ${errors}`);
    lines.push(`  the rejected rows as CSV with an error column: ${errors}?format=csv`);
  }
  return lines;
}

/** PUTs the file to the presigned URL, streamed with its length (S3 refuses a chunked PUT), with the headers it was signed with. */
export function uploadFile(url: string, headers: Record<string, string>, file: string): Promise<void> {
  const target = new URL(url);
  const request = (target.protocol === 'https:' ? https : http).request;
  return new Promise((resolvePromise, reject) => {
    const req = request(target, { method: 'PUT', headers: { ...headers, 'content-length': String(statSync(file).size) } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      res.on('end', () =>
        res.statusCode && res.statusCode < 300 ? resolvePromise() : reject(new Error(`The upload was refused (${res.statusCode}): ${text.slice(0, 500)}`)),
      );
    });
    req.on('error', reject);
    createReadStream(file).on('error', reject).pipe(req);
  });
}

/** Local facts this command reads from `.billow/local.json`. */
export interface ImportFacts {
  apiUrl: string;
  companyId: string;
  staffToken: string;
  staffUsername: string;
  staffPassword: string;
}

export interface RunImportOptions {
  /** Lines of output (the summary, messages). @default console.log */
  print?: (line: string) => void;
  /** The progress line, redrawn in place on a terminal. @default stderr, in place when it is a TTY */
  progress?: (line: string) => void;
  /** Milliseconds between polls. @default 500 */
  pollMs?: number;
}

/**
 * Creates the import, uploads the file, waits for the import to end (drawing progress) and returns it. Throws an Error
 * whose message is for the user when the API refuses something.
 */
export async function runImport(facts: ImportFacts, request: ImportRequest, options: RunImportOptions = {}): Promise<ImportJob> {
  const print = options.print ?? ((line: string) => console.log(line));
  const progress = options.progress ?? terminalProgress();
  let token = facts.staffToken;
  const call = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(facts.apiUrl + path, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch {
        throw new Error(`Billow does not answer at ${facts.apiUrl}: is npm start running?`);
      }
      const text = await res.text();
      // The token in local.json expires an hour after npm start: ask for a new one with the staff login once.
      if (res.status === 401 && attempt === 0) {
        const login = await fetch(`${facts.apiUrl}/v1/auth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ companyId: facts.companyId, username: facts.staffUsername, password: facts.staffPassword }),
        });
        if (login.status !== 200) throw new Error(`The staff login of the local stack was refused (${login.status}).`);
        token = ((await login.json()) as { token: string }).token;
        continue;
      }
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
    }
  };

  if (!existsSync(request.file) || !statSync(request.file).isFile()) throw new Error(`${request.file} is not a file.`);
  type Created = { id: string; uploadUrl: string; uploadHeaders: Record<string, string>; detail?: string; errors?: Array<{ path: string; message: string }> };
  const created = await call<Created>('POST', '/v1/imports', request.body);
  if (created.status !== 201) {
    const errors = created.body?.errors?.map((e) => `\n  ${e.path}: ${e.message}`).join('');
    throw new Error(`The import was not created (${created.status}):${errors || ` ${created.body?.detail ?? ''}`}`);
  }
  const { id, uploadUrl, uploadHeaders } = created.body;
  print(`Import ${id}: uploading ${request.file} (${statSync(request.file).size.toLocaleString('en-US')} bytes)`);
  await uploadFile(uploadUrl, uploadHeaders, request.file);

  let job: ImportJob;
  let last = '';
  for (;;) {
    const read = await call<ImportJob>('GET', `/v1/imports/${id}`);
    if (read.status !== 200) throw new Error(`Reading import ${id} failed (${read.status}).`);
    job = read.body;
    const line = progressLine(job);
    if (line !== last) progress(line);
    last = line;
    if (job.status === 'completed' || job.status === 'failed') break;
    await new Promise((r) => setTimeout(r, options.pollMs ?? 500));
  }
  progress('');
  for (const line of summaryLines(job, facts.apiUrl)) print(line);
  return job;
}

/** Progress on stderr: redrawn in place on a terminal, else one line per change. */
function terminalProgress(): (line: string) => void {
  if (!process.stderr.isTTY) return (line) => line && process.stderr.write(`${line}\n`);
  return (line) => process.stderr.write(`\r\x1b[2K${line}`);
}

async function main(): Promise<void> {
  const fail = (message: string): never => {
    console.error(message);
    process.exit(1);
  };
  let request: ImportRequest | 'help';
  try {
    request = parseImportArgs(process.argv.slice(2));
  } catch (error) {
    return fail(`${(error as Error).message}\n${USAGE}`);
  }
  if (request === 'help') {
    console.log(USAGE);
    return;
  }
  const root = join(fileURLToPath(import.meta.url), '..', '..');
  const stateDir = resolve(process.env.BILLOW_STATE_DIR ?? join(root, '.billow'));
  const localJson = join(stateDir, 'local.json');
  if (!existsSync(localJson)) fail(`${localJson} does not exist: start Billow with npm start first.`);
  const facts = JSON.parse(readFileSync(localJson, 'utf8')) as ImportFacts;
  // npm runs scripts in the project folder: a relative path is the user's, from where they typed the command.
  const file = resolve(process.env.INIT_CWD ?? process.cwd(), request.file);
  try {
    const job = await runImport(facts, { ...request, file });
    process.exit(job.status === 'completed' ? 0 : 1);
  } catch (error) {
    fail((error as Error).message);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main();

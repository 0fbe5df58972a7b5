/**
 * Client imports through the real path against the raw write ceiling (issue 13, budget 6). For 10,000 and 100,000
 * generated rows, in one run:
 *
 * - **import**: the local stack in this process (`startLocalStack`, DynamoDB Local in memory): `POST /v1/imports`,
 *   the file PUT to its presigned URL on the S3 stand-in, the bucket's object-created event → the local imports queue
 *   → the import worker (split into chunks, chunks at the deployed event source's concurrency, each writing batches of
 *   rows in parallel) → DynamoDB Local; timed from the upload to `completed`.
 * - **raw**: the same client items and transactions (client, index entries, unique markers, the number counter, the
 *   group check, the "created" activity entry and the row marker: `insertClient` with what `createClient` adds) sent
 *   straight to the same DynamoDB Local, in a company of their own, with as many in flight as the import has: a
 *   chunk worker writes `ROW_CONCURRENCY` rows at once (client numbers are atomic increments, so concurrent creates
 *   do not race on the counter), and the file's chunks run at most `IMPORT_MAX_CONCURRENCY` at once.
 * - **peak RSS** of the import worker: each import's worker runs in a process of its own
 *   (bench/support/import-worker.ts; the local queue hands it the bucket's event, its chunks run in it), and its
 *   peak is the kernel's (getrusage). The stack, the S3 stand-in and this benchmark's own records are not in it, so
 *   what grows with the rows in the worker's path (the duplicate scan's unique values, anything kept per row) shows
 *   against a base of a few hundred MiB, not behind the whole stack's.
 *
 * Rows are seed-004 shaped with a client number and no email (`uniqueBy: number`): a row with an email also gets a
 * client login, whose cost is the identity provider's (Cognito's AdminCreateUser quota in AWS, a scrypt hash in the
 * local stand-in), not a DynamoDB write; see docs/imports.md.
 *
 * A module of `npm run bench` (`run()`, DynamoDB Local given by the harness through AWS_ENDPOINT_URL_DYNAMODB, which
 * the local stack then uses instead of starting its own), or standalone:
 *
 *   npm run bench:imports [-- 10000 100000]      (BILLOW_IMPORT_CHUNK_BYTES=<bytes> splits the files finer)
 *   npm run bench:imports -- --rows 100000       (the imports alone, 10,000 and 100,000 rows: the worker's peak RSS
 *                                                 at full size, which the 15-minute bench has no time for)
 *
 * The whole bench must run in 15 minutes on a 2-core machine: after the small size, the large one is run only if it
 * fits this bench's share at the rate just measured; otherwise the largest size that does, and the output says so.
 * The DynamoDB work of the import is recorded (test/support/dynamo-calls.ts) for the cost model: calls, write
 * capacity and time per row.
 */
import '../bin/local/preamble.js';
import { blankClient } from '../test/support/blank-client.js';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { runImport, type ImportFacts } from '../bin/import.js';
import { startLocalStack, type LocalStack } from '../bin/local/stack.js';
import { actorOf } from '../functions/domain/activity.js';
import type { Client } from '../functions/domain/client.js';
import { ConflictError } from '../functions/domain/errors.js';
import { newId } from '../functions/domain/ids.js';
import { activityPut } from '../functions/store/client-records.js';
import { insertClient } from '../functions/store/clients.js';
import { rowMarkerPut } from '../functions/store/imports.js';
import { ROW_CONCURRENCY } from '../functions/imports/process-chunk.js';
import { DEFAULT_CHUNK_BYTES } from '../functions/imports/start-import.js';
import { IMPORT_MAX_CONCURRENCY } from '../lib/imports.js';
import { recordDynamoCalls, type CallRecorder } from '../test/support/dynamo-calls.js';
import { isEntry, runStandalone } from './support/dynamo.js';
import type { DynamoTotals } from './support/import-worker.js';
import { startWorkerProcess, type WorkerProcess } from './support/import-worker-process.js';
import type { BenchOutcome, BudgetResult } from './support/report.js';

/** Chunks of the file: one worker each, at most IMPORT_MAX_CONCURRENCY at once. */
const CHUNK_BYTES = Number(process.env.BILLOW_IMPORT_CHUNK_BYTES) || DEFAULT_CHUNK_BYTES;
const chunksAtOnce = (bytes: number) => Math.min(IMPORT_MAX_CONCURRENCY, Math.max(1, Math.ceil(bytes / CHUNK_BYTES)));
/** Client transactions in flight while a file of `bytes` is imported: ROW_CONCURRENCY per chunk that runs. */
const concurrencyFor = (bytes: number) => chunksAtOnce(bytes) * ROW_CONCURRENCY;
/** Budgets of issue 13, item 6. */
const MIN_RATIO_TO_RAW = 0.8;
const MAX_RSS_RATIO = 1.25;
/**
 * This bench's share of the whole bench's 15 minutes (import and raw writes of both sizes, seeding included). When
 * the large size would not fit at the rate measured on the small one, the largest size that fits is run instead.
 */
const DEFAULT_TIME_ALLOWANCE_S = 300;

const FIRST = ['Ada', 'Bo', 'Cyd', 'Dee', 'Eli', 'Fay', 'Gus', 'Hal', 'Ivy', 'Jo', 'Renée', 'Zoë'];
const COUNTRIES = ['US', 'GB', 'France', 'DE', 'Canada', 'NL'];
/** The codes the import stores for the English names above. */
const COUNTRY_CODES: Record<string, string> = { France: 'FR', Canada: 'CA' };

/** Row `i` (0-based) as its fields; the same for the file and the raw writes. */
function rowFields(i: number) {
  return {
    number: 100_000 + i,
    firstName: FIRST[i % FIRST.length],
    lastName: `Family${i}`,
    company: i % 3 === 0 ? `Company ${i}, Ltd` : '',
    phone: `+1 555 ${String(i % 10_000).padStart(4, '0')}`,
    address1: `${i} Main Street`,
    city: 'Springfield',
    country: COUNTRIES[i % COUNTRIES.length],
  };
}

const csvCell = (value: string) => (/[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

/** Writes a seed-004-shaped CSV of `rows` rows, streamed (the file is never held in memory). */
async function writeCsv(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  const write = async (line: string) => {
    if (!out.write(line)) await once(out, 'drain');
  };
  await write('Client Number,First Name,Last Name,Business Name,Telephone,Street Address 1,City,Country\n');
  for (let i = 0; i < rows; i++) {
    const r = rowFields(i);
    await write(`${[String(r.number), r.firstName, r.lastName, r.company, r.phone, r.address1, r.city, r.country].map(csvCell).join(',')}\n`);
  }
  out.end();
  await once(out, 'finish');
}

async function call<T>(facts: ImportFacts, method: string, path: string, token: string, body?: unknown): Promise<T> {
  const res = await fetch(facts.apiUrl + path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

/** A fresh company (and its staff login) per measurement, so no run sees another's numbers or markers. */
async function newCompany(stack: LocalStack, name: string): Promise<ImportFacts & { defaultGroupId: string }> {
  const f = stack.facts;
  const username = `bench${newId('usr').slice(-8).toLowerCase()}`;
  const password = 'bench password 1';
  const company = await call<{ id: string; defaultGroupId: string }>(f, 'POST', '/v1/companies', f.operatorToken, {
    name,
    defaultCurrency: 'USD',
    timeZone: 'UTC',
    staff: { username, email: `${username}@bench.test`, password },
  });
  const token = await fetch(`${f.apiUrl}/v1/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ companyId: company.id, username, password }),
  });
  const staffToken = ((await token.json()) as { token: string }).token;
  return { apiUrl: f.apiUrl, companyId: company.id, staffToken, staffUsername: username, staffPassword: password, defaultGroupId: company.defaultGroupId };
}

interface Measured {
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  /** The worker process's peak RSS, and its RSS once its modules were loaded, before the import. */
  peakRss?: number;
  baselineRss?: number;
  /** What the worker still held at the end once its garbage was collected (V8 heap and buffers). */
  liveAfterGc?: number;
  /** The DynamoDB work: the worker's (in its process), or the raw writes' (recorded in this one). */
  dynamo?: DynamoTotals | ReturnType<CallRecorder['totals']>;
}

/** The import's progress on one line of a terminal; into a log (the harness's child process), every tenth of the file. */
function progressLine(): (line: string) => void {
  if (process.stderr.isTTY) return (line) => line && process.stderr.write(`\r  ${line}\x1b[K`);
  let lastTenth = -1;
  return (line) => {
    const percent = Number(/(\d+)%/.exec(line)?.[1] ?? -1);
    const tenth = Math.floor(percent / 10);
    if (tenth > lastTenth) {
      lastTenth = tenth;
      process.stderr.write(`  ${line}\n`);
    }
  };
}

/** The worker process the local stack's queue hands the bucket's events to (one per import). */
let currentWorker: WorkerProcess | undefined;

async function measureImport(stack: LocalStack, file: string, rows: number, chunks: number): Promise<Measured> {
  const facts = await newCompany(stack, `Import bench ${rows}`);
  const worker = await startWorkerProcess(chunks, log);
  currentWorker = worker;
  try {
    const started = process.hrtime.bigint();
    const job = await Promise.race([
      runImport(
        facts,
        { file, body: { filename: `bench-${rows}.csv`, uniqueBy: 'number' } },
        { print: () => undefined, progress: progressLine(), pollMs: 100 },
      ),
      worker.gaveUp,
    ]);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    process.stderr.write('\n');
    if (job.status !== 'completed' || job.created !== rows) throw new Error(`The import of ${rows} rows ended ${job.status}: ${JSON.stringify(job)}`);
    const report = await worker.report();
    if (report.redelivered) log(`  (import worker: ${report.redelivered} chunk message(s) failed and were delivered again)`);
    return {
      rows,
      seconds,
      rowsPerSecond: rows / seconds,
      peakRss: report.peakRss,
      baselineRss: report.baselineRss,
      liveAfterGc: report.liveAfterGc,
      dynamo: report.dynamo,
    };
  } finally {
    currentWorker = undefined;
    worker.stop();
  }
}

/** The client `createClient` writes for row `i` (what `rowToClient` makes of the row, with the company's defaults). */
function draftOf(i: number, groupId: string, now: string): Omit<Client, 'number'> & { number: number } {
  const r = rowFields(i);
  const blank = blankClient({
    groupId,
    firstName: r.firstName,
    lastName: r.lastName,
    company: r.company || null,
    address1: r.address1,
    city: r.city,
    country: COUNTRY_CODES[r.country] ?? r.country,
    phones: [{ type: 'phone', location: 'work', number: r.phone }],
    createdAt: now,
  });
  return { ...blank, number: r.number };
}

async function measureRaw(stack: LocalStack, rows: number, concurrency: number): Promise<Measured> {
  const { companyId, defaultGroupId } = await newCompany(stack, `Raw bench ${rows}`);
  const importId = newId('imp');
  let next = 0;
  let busy = 0;
  const calls = recordDynamoCalls();
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, rows) }, async () => {
      while (next < rows) {
        const i = next++;
        // A write that kept meeting concurrent ones gives up ("busy"): the row is sent again, as the worker's backoff
        // would.
        for (;;) {
          try {
            const now = new Date().toISOString();
            await insertClient(companyId, draftOf(i, defaultGroupId, now), (client) => [
              activityPut(companyId, client.id, actorOf(null), 'client.created', { number: client.number }),
              // Row numbers as in the file: the header is row 1.
              rowMarkerPut(companyId, importId, i + 2, 'created', client.id),
            ]);
            break;
          } catch (error) {
            if (!(error instanceof ConflictError && error.code === 'busy')) throw error;
            busy++;
          }
        }
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  calls.stop();
  if (busy) log(`  (raw: ${busy} client writes met busy items and were sent again)`);
  return { rows, seconds, rowsPerSecond: rows / seconds, dynamo: calls.totals() };
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const fmt = (n: number) => n.toLocaleString('en-US');
/** Progress goes to stderr, so a harness's stdout holds only its table. */
const log = (line: string) => process.stderr.write(`${line}\n`);

interface Size {
  imported: Measured;
  /** Not measured by `--rows` (the import alone, for its memory at full size). */
  raw?: Measured;
  bytes: number;
  concurrency: number;
}

async function measureSize(stack: LocalStack, dir: string, rows: number, withRaw: boolean): Promise<Size> {
  const file = join(dir, `bench-${rows}.csv`);
  await writeCsv(file, rows);
  const bytes = statSync(file).size;
  const concurrency = concurrencyFor(bytes);
  log(
    `\n${fmt(rows)} rows (${(bytes / 1024 / 1024).toFixed(1)} MiB file, ${Math.ceil(bytes / CHUNK_BYTES)} chunk(s); ${concurrency} client transaction(s) in flight)`,
  );
  try {
    const imported = await measureImport(stack, file, rows, chunksAtOnce(bytes));
    log(
      `  import  ${imported.seconds.toFixed(1)} s  ${imported.rowsPerSecond.toFixed(0)} rows/s  worker peak RSS ${mib(imported.peakRss ?? 0)} (${mib(imported.baselineRss ?? 0)} once loaded, ${mib(imported.liveAfterGc ?? 0)} held after a full GC at the end)`,
    );
    if (!withRaw) return { imported, bytes, concurrency };
    const raw = await measureRaw(stack, rows, concurrency);
    log(`  raw     ${raw.seconds.toFixed(1)} s  ${raw.rowsPerSecond.toFixed(0)} rows/s`);
    return { imported, raw, bytes, concurrency };
  } finally {
    rmSync(file, { force: true });
  }
}

export interface ImportBenchOptions {
  /** Rows of the small and the large file. @default [10_000, 100_000] */
  sizes?: readonly [number, number];
  /** Seconds this bench may take, both sizes together. @default 300 (BILLOW_BENCH_IMPORT_SECONDS) */
  timeAllowanceSeconds?: number;
  /**
   * The imports alone, both sizes whatever they take, without the raw writes: the worker's peak RSS at full size
   * (`npm run bench:imports -- --rows 100000`), which the 15-minute bench has no time for.
   */
  importOnly?: boolean;
}

/**
 * Imports the small file, then the large one if it fits the time allowance at the rates just measured (else the
 * largest size that fits, said in the output), each against the same writes sent raw; the budgets of item 6. Each
 * import's worker runs in a process of its own (bench/support/import-worker.ts): its peak RSS is the worker path's.
 */
export async function run(options: ImportBenchOptions = {}): Promise<BenchOutcome> {
  const [small, wanted] = options.sizes ?? [10_000, 100_000];
  const withRaw = !options.importOnly;
  const allowance = options.importOnly
    ? Number.POSITIVE_INFINITY
    : (options.timeAllowanceSeconds ?? (Number(process.env.BILLOW_BENCH_IMPORT_SECONDS) || DEFAULT_TIME_ALLOWANCE_S));
  const began = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - began) / 1e9;
  const stateDir = mkdtempSync(join(tmpdir(), 'billow-bench-imports-'));
  // The stack sets the process's environment for its handlers (table names, endpoints, secrets): the harness's is
  // put back afterwards.
  const savedEnv = { ...process.env };
  const suffix = randomBytes(3).toString('hex');
  log(
    `Import benchmark: ${fmt(small)} and ${fmt(wanted)} rows${withRaw ? '' : ' (imports only)'}; ${(CHUNK_BYTES / 1024).toFixed(0)} KiB chunks, at most ${IMPORT_MAX_CONCURRENCY} at once, each writing ${ROW_CONCURRENCY} rows at once`,
  );
  const stack = await startLocalStack({
    stateDir,
    port: 0,
    inMemory: true,
    dynamoEndpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB || undefined,
    tables: { app: `billow-bench-imports-${suffix}`, identity: `billow-bench-imports-identity-${suffix}` },
    // The queue's invocations go to the import's worker process.
    loadImportWorker: async () => async (event) => {
      if (!currentWorker) throw new Error('An import message arrived with no worker process running.');
      return currentWorker.invoke(event);
    },
  });
  const notes: string[] = [];
  let first: Size;
  let second: Size | undefined;
  let large = wanted;
  try {
    first = await measureSize(stack, stateDir, small, withRaw);
    // Both halves (import and raw) grow with the rows: the large size at the small one's rates.
    const secondsPerRow = first.imported.seconds / small + (first.raw?.seconds ?? 0) / small;
    const estimate = wanted * secondsPerRow;
    const left = allowance - elapsed();
    if (estimate > left) {
      large = Math.floor(left / secondsPerRow / 5_000) * 5_000;
      notes.push(
        `imports: ${fmt(wanted)} rows would take ~${(estimate / 60).toFixed(1)} min here (import ${(small / first.imported.seconds).toFixed(0)} rows/s, raw ${(small / (first.raw?.seconds ?? 0)).toFixed(0)} rows/s on ${fmt(small)} rows), more than this bench's ${(allowance / 60).toFixed(0)} min share of the 15-minute bench: ${large > small ? `${fmt(large)} rows instead` : 'the large size is not run'}; \`npm run bench:imports -- --rows ${wanted}\` measures the worker's memory at full size`,
      );
    }
    if (large > small) second = await measureSize(stack, stateDir, large, withRaw);
  } finally {
    await stack.stop();
    rmSync(stateDir, { recursive: true, force: true });
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
  }

  const sizes = [first, ...(second ? [second] : [])];
  const results: BudgetResult[] = sizes.flatMap((s) =>
    s.raw
      ? [
          {
            budget: 6,
            name: `import ÷ raw write ceiling, ${fmt(s.imported.rows)} rows`,
            measured: s.imported.rowsPerSecond / s.raw.rowsPerSecond,
            limit: MIN_RATIO_TO_RAW,
            kind: 'min' as const,
            detail: `${s.imported.rowsPerSecond.toFixed(0)} / ${s.raw.rowsPerSecond.toFixed(0)} rows/s, ${s.concurrency} in flight`,
          },
        ]
      : [],
  );
  results.push(
    second
      ? {
          budget: 6,
          name: `import worker peak RSS ${fmt(large)} ÷ ${fmt(small)} rows`,
          measured: (second.imported.peakRss ?? 0) / (first.imported.peakRss ?? 1),
          limit: MAX_RSS_RATIO,
          kind: 'max',
          detail: `${mib(second.imported.peakRss ?? 0)} / ${mib(first.imported.peakRss ?? 0)}, the worker's process (${mib(first.imported.baselineRss ?? 0)} once loaded); held after a full GC at the end ${mib(second.imported.liveAfterGc ?? 0)} / ${mib(first.imported.liveAfterGc ?? 0)}${large < wanted ? ` (${fmt(large)}, not ${fmt(wanted)}: time)` : ''}`,
        }
      : {
          budget: 6,
          name: 'import worker peak RSS large ÷ small',
          measured: Number.POSITIVE_INFINITY,
          limit: MAX_RSS_RATIO,
          kind: 'max',
          detail: 'not measured: no larger size fits the time allowance',
        },
  );
  const costed = second ?? first;
  const d = costed.imported.dynamo;
  for (const s of sizes) {
    const perRow = (t: Measured['dynamo'], rows: number) =>
      t
        ? `${(t.calls / rows).toFixed(2)} DynamoDB calls, ${(t.writeCapacity / rows).toFixed(1)} WCU, ${(t.readCapacity / rows).toFixed(2)} RCU, ${(t.cancelled / rows).toFixed(3)} cancelled transactions`
        : 'not recorded';
    notes.push(
      `imports ${fmt(s.imported.rows)} rows: ${s.imported.seconds.toFixed(1)} s (${s.raw ? `raw ${s.raw.seconds.toFixed(1)} s` : 'raw not run'}), worker peak RSS ${mib(s.imported.peakRss ?? 0)} (${mib(s.imported.baselineRss ?? 0)} once loaded, ${mib(s.imported.liveAfterGc ?? 0)} held after a full GC at the end); per row: import ${perRow(s.imported.dynamo, s.imported.rows)}${s.raw ? `; raw ${perRow(s.raw.dynamo, s.raw.rows)}` : ''}`,
    );
  }
  notes.push(`imports: the whole run took ${(elapsed() / 60).toFixed(1)} min`);
  return {
    results,
    notes,
    operations: d
      ? [
          {
            operation: 'import row',
            calls: d.calls / costed.imported.rows,
            readCapacity: d.readCapacity / costed.imported.rows,
            writeCapacity: d.writeCapacity / costed.imported.rows,
            // Worker time per row: the wall time times the chunk workers that ran at once (each a Lambda).
            ms: ((costed.imported.seconds * 1000) / costed.imported.rows) * chunksAtOnce(costed.bytes),
          },
        ]
      : [],
  };
}

/** `[small large]`: both sizes with their raw writes; `--rows N`: the imports alone at 10,000 and N rows. */
function parseArgs(args: readonly string[]): ImportBenchOptions {
  const rowsAt = args.indexOf('--rows');
  if (rowsAt !== -1) {
    const rows = Number(args[rowsAt + 1]);
    if (!Number.isSafeInteger(rows) || rows <= 10_000) throw new Error(`--rows takes a number of rows over 10,000, not ${args[rowsAt + 1]}`);
    return { sizes: [10_000, rows], importOnly: true };
  }
  const sizes = args.map(Number).filter((n) => Number.isSafeInteger(n) && n > 0);
  return sizes.length === 2 ? { sizes: [sizes[0], sizes[1]] } : {};
}
if (isEntry(import.meta.url)) {
  const options = parseArgs(process.argv.slice(2));
  await runStandalone(import.meta.url, () => run(options));
}
// The local stack's stand-ins leave timers behind.
if (isEntry(import.meta.url)) process.exit(process.exitCode ?? 0);

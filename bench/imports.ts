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
 *   straight to the same DynamoDB Local, in a company of their own, with as many in flight as the import has. A
 *   chunk worker checks `ROW_CONCURRENCY` rows at once but its numbered client writes take turns (one transaction
 *   at a time per worker: concurrent ones only lose races on the company's number counter), so the import has one
 *   client transaction in flight per chunk that runs: the file's chunks, at most `IMPORT_MAX_CONCURRENCY`.
 * - **peak RSS** of this process (the API, S3 stand-in, queue and workers all run in it; DynamoDB Local is its own
 *   process) while each import runs, sampled every 50 ms.
 *
 * Rows are seed-004 shaped with a client number and no email (`uniqueBy: number`): a row with an email also gets a
 * client login, whose cost is the identity provider's (Cognito's AdminCreateUser quota in AWS, a scrypt hash in the
 * local stand-in), not a DynamoDB write; see docs/imports.md.
 *
 *   npm run bench:imports [-- 10000 100000]      (BILLOW_IMPORT_CHUNK_BYTES=<bytes> splits the files finer)
 */
import '../bin/local/preamble.js';
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

/** Client transactions in flight while a file of `bytes` is imported: one per chunk that runs (see above). */
const CHUNK_BYTES = Number(process.env.BILLOW_IMPORT_CHUNK_BYTES) || DEFAULT_CHUNK_BYTES;
const concurrencyFor = (bytes: number) => Math.min(IMPORT_MAX_CONCURRENCY, Math.max(1, Math.ceil(bytes / CHUNK_BYTES)));
/** Budgets of issue 13, item 6. */
const MIN_RATIO_TO_RAW = 0.8;
const MAX_RSS_RATIO = 1.25;

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => Number.isSafeInteger(n) && n > 0);
const [small, large] = sizes.length === 2 ? sizes : [10_000, 100_000];

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

interface Sampler {
  stop(): number;
}

/** The largest RSS seen until stopped, in bytes. */
function sampleRss(): Sampler {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 50);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
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
  peakRss?: number;
}

async function measureImport(stack: LocalStack, file: string, rows: number): Promise<Measured> {
  const facts = await newCompany(stack, `Import bench ${rows}`);
  const rss = sampleRss();
  const started = process.hrtime.bigint();
  const job = await runImport(
    facts,
    { file, body: { filename: `bench-${rows}.csv`, uniqueBy: 'number' } },
    { print: () => undefined, progress: (line) => line && process.stderr.write(`\r  ${line}\x1b[K`), pollMs: 100 },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const peakRss = rss.stop();
  process.stderr.write('\n');
  if (job.status !== 'completed' || job.created !== rows) throw new Error(`The import of ${rows} rows ended ${job.status}: ${JSON.stringify(job)}`);
  return { rows, seconds, rowsPerSecond: rows / seconds, peakRss };
}

/** The client `createClient` writes for row `i` (what `rowToClient` makes of the row, with the company's defaults). */
function draftOf(i: number, groupId: string, now: string): Omit<Client, 'number'> & { number: number } {
  const r = rowFields(i);
  return {
    id: newId('cl'),
    number: r.number,
    status: 'active',
    groupId,
    firstName: r.firstName,
    lastName: r.lastName,
    company: r.company || null,
    title: null,
    address1: r.address1,
    address2: null,
    city: r.city,
    country: COUNTRY_CODES[r.country] ?? r.country,
    state: null,
    zip: null,
    email: null,
    phones: [{ type: 'phone', location: 'work', number: r.phone }],
    taxExempt: false,
    taxId: null,
    currency: 'USD',
    username: null,
    userId: null,
    language: 'en',
    marketingOptIn: false,
    customFields: {},
    autoDebitAccountId: null,
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
}

async function measureRaw(stack: LocalStack, rows: number, concurrency: number): Promise<Measured> {
  const { companyId, defaultGroupId } = await newCompany(stack, `Raw bench ${rows}`);
  const importId = newId('imp');
  let next = 0;
  let busy = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, rows) }, async () => {
      while (next < rows) {
        const i = next++;
        // The counter gives up after its attempts when too many race for it ("busy"): the row is sent again, as a
        // redelivered import message would.
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
  if (busy) console.log(`  (raw: ${busy} client writes gave up on the number counter and were sent again)`);
  return { rows, seconds, rowsPerSecond: rows / seconds };
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');

const stateDir = mkdtempSync(join(tmpdir(), 'billow-bench-imports-'));
console.log(
  `Import benchmark: ${small.toLocaleString('en-US')} and ${large.toLocaleString('en-US')} rows; ${(CHUNK_BYTES / 1024).toFixed(0)} KiB chunks, at most ${IMPORT_MAX_CONCURRENCY} at once, each checking ${ROW_CONCURRENCY} rows at once and writing one client at a time`,
);
const stack = await startLocalStack({ stateDir, port: 0, inMemory: true });
const results: Array<{ imported: Measured; raw: Measured; bytes: number }> = [];
try {
  for (const rows of [small, large]) {
    const file = join(stateDir, `bench-${rows}.csv`);
    await writeCsv(file, rows);
    const concurrency = concurrencyFor(statSync(file).size);
    console.log(
      `\n${rows.toLocaleString('en-US')} rows (${(statSync(file).size / 1024 / 1024).toFixed(1)} MiB file; ${concurrency} client transaction(s) in flight)`,
    );
    const imported = await measureImport(stack, file, rows);
    console.log(`  import  ${imported.seconds.toFixed(1)} s  ${imported.rowsPerSecond.toFixed(0)} rows/s  peak RSS ${mib(imported.peakRss ?? 0)}`);
    const raw = await measureRaw(stack, rows, concurrency);
    console.log(`  raw     ${raw.seconds.toFixed(1)} s  ${raw.rowsPerSecond.toFixed(0)} rows/s`);
    results.push({ imported, raw, bytes: statSync(file).size });
    rmSync(file, { force: true });
  }
} finally {
  await stack.stop();
  rmSync(stateDir, { recursive: true, force: true });
}

const [first, second] = results;
const throughput = second.imported.rowsPerSecond / second.raw.rowsPerSecond;
const rssRatio = (second.imported.peakRss ?? 0) / (first.imported.peakRss ?? 1);
console.log(`
| rows | import rows/s | raw rows/s | import ÷ raw | peak RSS |
| ---: | ---: | ---: | ---: | ---: |
${results
  .map(
    (r) =>
      `| ${r.imported.rows.toLocaleString('en-US')} | ${r.imported.rowsPerSecond.toFixed(0)} | ${r.raw.rowsPerSecond.toFixed(0)} | ${(r.imported.rowsPerSecond / r.raw.rowsPerSecond).toFixed(2)} | ${mib(r.imported.peakRss ?? 0)} |`,
  )
  .join('\n')}

${verdict(throughput >= MIN_RATIO_TO_RAW)}  import throughput at ${large.toLocaleString('en-US')} rows = ${throughput.toFixed(2)} × the raw write ceiling (budget ≥ ${MIN_RATIO_TO_RAW})
${verdict(rssRatio <= MAX_RSS_RATIO)}  peak RSS at ${large.toLocaleString('en-US')} rows ÷ at ${small.toLocaleString('en-US')} = ${rssRatio.toFixed(2)} (budget ≤ ${MAX_RSS_RATIO})`);
process.exit(0);

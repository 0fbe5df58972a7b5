/**
 * Hot keys (issue 13, budget 3): do client creates at once cost more than one at a time? In one run, 100 creates
 * through the create-client use case (what `POST /v1/clients` calls, without HTTP) in a fresh company:
 *
 * - **requests per client** at concurrency 1 and at concurrency 10 (every DynamoDB command, `recordDynamoCalls`),
 *   and the transactions DynamoDB cancelled; the ratio c10 / c1 must stay ≤ 1.2: creates at once must not lose
 *   races on the company's client-number counter and try again.
 * - **throughput against raw**: the same 100 creates at concurrency 10 against the same DynamoDB requests sent
 *   straight with a plain SDK client at concurrency 10 — per client the company read, the counter increment and the
 *   client's transaction exactly as the use case sent it at concurrency 1 (copied into a fresh company). Wall time
 *   is noisy on a shared machine, so both are timed in the same run, taking turns of 20 creates (which goes first
 *   alternating), over several rounds; the figure is the median of the rounds' raw / use-case time ratios and must
 *   be ≥ 0.9.
 *
 * Clients have no email, so no login is made: the identity provider's cost (a scrypt hash locally) is not a DynamoDB
 * write and would hide the counter. Uses the DynamoDB Local the bench harness started (`BILLOW_BENCH_DYNAMO_ENDPOINT`,
 * or `AWS_ENDPOINT_URL_DYNAMODB`) when one is named, else starts its own; its tables are its own either way.
 *
 *   npx tsx bench/hot-keys.ts [creates=100] [concurrency=10]
 */
import '../bin/local/preamble.js';
import { randomBytes, randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand, UpdateCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { startDynamoDbLocal } from '../bin/local/dynamodb-local.js';
import { ensureTables } from '../bin/local/tables.js';
import { generateLocalSigningKey } from '../functions/adapters/identity/local.js';
import { createClient } from '../functions/clients/create-client.js';
import { createCompany } from '../functions/companies/create-company.js';
import { db, tableName } from '../functions/store/dynamo.js';
import { companyPk, companySk, counterSk } from '../functions/store/keys.js';
import { recordDynamoCalls } from '../test/support/dynamo-calls.js';
import { runStandalone } from './support/dynamo.js';
import { inParallel, median } from './support/measure.js';
import type { BenchOutcome, BudgetResult } from './support/report.js';

/** Budgets of issue 13, item 3. */
const MAX_REQUEST_RATIO = 1.2;
const MIN_THROUGHPUT_TO_RAW = 0.9;
/** Timed rounds of (use case, raw) at concurrency; one untimed round warms both paths first. */
const ROUNDS = 7;
/** Creates of one turn: a round alternates use case and raw this many creates at a time. */
const TURN = 20;

interface Company {
  companyId: string;
  groupId: string;
}

/** The client transactions of one run, as sent, and the company they were sent for. */
interface Capture {
  from: Company;
  transactions: TransactWriteCommandInput[];
}

async function freshCompany(): Promise<Company> {
  const username = `bench${randomBytes(4).toString('hex')}`;
  const { company, defaultGroup } = await createCompany({
    name: 'Hot Keys Ltd',
    defaultCurrency: 'USD',
    timeZone: 'UTC',
    staff: { username, email: `${username}@example.com`, password: 'a good password' },
  });
  return { companyId: company.id, groupId: defaultGroup.id };
}

/** The `p`th percentile (0–100) of `values`, nearest rank. */
const percentile = (values: readonly number[], p: number): number =>
  [...values].sort((a, b) => a - b)[Math.max(0, Math.ceil((p / 100) * values.length) - 1)] ?? Number.NaN;

interface UseCaseRun {
  ms: number;
  /** Each create's own wall time. */
  latencies: number[];
  requests: number;
  cancelled: number;
  readCapacity: number;
  writeCapacity: number;
}

/**
 * Creates clients `from`…`from + count - 1` of `company` through the use case, `concurrency` at once: their
 * DynamoDB calls and times (and, given `capture`, the transactions they sent).
 */
async function createThroughUseCase(company: Company, from: number, count: number, concurrency: number, capture?: Capture): Promise<UseCaseRun> {
  const recorder = recordDynamoCalls();
  const latencies: number[] = [];
  const copyTransactions = (next: (args: { input: object }) => Promise<unknown>) => async (args: { input: object }) => {
    const out = await next(args);
    if ('TransactItems' in args.input) capture?.transactions.push(structuredClone(args.input as TransactWriteCommandInput));
    return out;
  };
  if (capture) db().middlewareStack.add(copyTransactions as never, { step: 'initialize', name: 'benchCopyTransactions' });
  const start = process.hrtime.bigint();
  try {
    await inParallel(count, concurrency, async (j) => {
      const i = from + j;
      const begun = process.hrtime.bigint();
      await createClient(company.companyId, { firstName: 'Ada', lastName: `Family${i}`, company: `Company ${i} Ltd` }, null);
      latencies.push(Number(process.hrtime.bigint() - begun) / 1e6);
    });
  } finally {
    recorder.stop();
    if (capture) db().middlewareStack.remove('benchCopyTransactions');
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const totals = recorder.totals();
  return { ms, latencies, requests: totals.calls, cancelled: totals.cancelled, readCapacity: totals.readCapacity, writeCapacity: totals.writeCapacity };
}

/** A plain document client: no tracing, fault translation or call recording in its middleware. */
let rawClient: DynamoDBDocumentClient | undefined;
const raw = () => (rawClient ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } }));

/** The captured transactions moved into a fresh company: its company and group ids for the captured ones'. */
interface RawWrites {
  to: Company;
  transactions: TransactWriteCommandInput[];
}

async function moveCapture(from: Capture): Promise<RawWrites> {
  const to = await freshCompany();
  const transactions = from.transactions.map((t) => {
    const moved = JSON.parse(
      JSON.stringify(t).replaceAll(from.from.companyId, to.companyId).replaceAll(from.from.groupId, to.groupId),
    ) as TransactWriteCommandInput;
    // Written by the increment here, as the counter is not one of the same client's items.
    moved.TransactItems = moved.TransactItems?.filter((item) => item.Update?.Key?.SK !== counterSk('client'));
    // Its own token, as the real path sends one per transaction: the captured one was spent on other items, and
    // DynamoDB refuses a token again with different items (IdempotentParameterMismatchException).
    if (moved.ClientRequestToken) moved.ClientRequestToken = randomUUID();
    return moved;
  });
  return { to, transactions };
}

/**
 * Sends creates `from`…`from + count - 1` straight, `concurrency` at once: per client the company read, one
 * increment of the client-number counter and the client's transaction. Returns the wall time.
 */
async function createRaw(writes: RawWrites, from: number, count: number, concurrency: number): Promise<number> {
  const companyKey = { PK: companyPk(writes.to.companyId), SK: companySk };
  const counter = { PK: companyPk(writes.to.companyId), SK: counterSk('client') };
  const start = process.hrtime.bigint();
  await inParallel(count, concurrency, async (j) => {
    await raw().send(new GetCommand({ TableName: tableName(), Key: companyKey, ConsistentRead: true }));
    await raw().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: counter,
        UpdateExpression: 'ADD #v :one',
        ExpressionAttributeNames: { '#v': 'value' },
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    await raw().send(new TransactWriteCommand(writes.transactions[from + j]));
  });
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Points the store at a fresh table (in the harness's DynamoDB Local, or one started here) for the run. */
async function withTables<T>(body: () => Promise<T>): Promise<T> {
  // `npm run bench` names its DynamoDB Local (bench/support/dynamo.ts); the standard endpoint variable works too.
  const given = process.env.BILLOW_BENCH_DYNAMO_ENDPOINT ?? process.env.AWS_ENDPOINT_URL_DYNAMODB;
  const started = given ? undefined : await startDynamoDbLocal();
  const saved = { ...process.env };
  const settings: Record<string, string> = {};
  try {
    Object.assign(settings, {
      AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'bench',
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'bench',
      AWS_ENDPOINT_URL_DYNAMODB: given ?? started?.endpoint ?? '',
      BILLOW_TABLE: `billow-bench-hot-${randomBytes(3).toString('hex')}`,
      BILLOW_IDENTITY_TABLE: `billow-bench-hot-identity-${randomBytes(3).toString('hex')}`,
      BILLOW_SIGNING_SECRET: process.env.BILLOW_SIGNING_SECRET ?? randomBytes(32).toString('hex'),
      BILLOW_LOCAL_IDENTITY_KEY: process.env.BILLOW_LOCAL_IDENTITY_KEY ?? JSON.stringify(await generateLocalSigningKey()),
    });
    Object.assign(process.env, settings);
    await ensureTables(new DynamoDBClient({}), { app: process.env.BILLOW_TABLE as string, identity: process.env.BILLOW_IDENTITY_TABLE as string });
    return await body();
  } finally {
    // The next module of the harness finds the environment as it was.
    for (const key of Object.keys(settings))
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    await started?.stop();
  }
}

export async function run(creates = 100, concurrency = 10): Promise<BenchOutcome> {
  return withTables(async () => {
    const capture: Capture = { from: await freshCompany(), transactions: [] };
    const one = await createThroughUseCase(capture.from, 0, creates, 1, capture);
    // Warm both paths alike, untimed.
    const warm = Math.min(creates, 20);
    await createThroughUseCase(await freshCompany(), 0, warm, concurrency);
    await createRaw(await moveCapture(capture), 0, warm, concurrency);
    /** Wall times of each round's use-case creates and raw creates. */
    const rounds: Array<{ useCase: number; raw: number }> = [];
    const many: UseCaseRun[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const company = await freshCompany();
      const writes = await moveCapture(capture);
      const times = { useCase: 0, raw: 0 };
      // Short turns, alternating which goes first, so both meet the same load of a shared machine.
      for (let from = 0, turn = 0; from < creates; from += TURN, turn++) {
        const count = Math.min(TURN, creates - from);
        const useCase = () => createThroughUseCase(company, from, count, concurrency);
        const direct = () => createRaw(writes, from, count, concurrency);
        if ((round + turn) % 2 === 0) {
          many.push(await useCase());
          times.raw += await direct();
        } else {
          times.raw += await direct();
          many.push(await useCase());
        }
        times.useCase += many[many.length - 1].ms;
      }
      rounds.push(times);
    }
    const total = (key: 'requests' | 'cancelled' | 'readCapacity' | 'writeCapacity') => many.reduce((n, r) => n + r[key], 0);
    const requests = total('requests');
    const cancelled = total('cancelled');
    const readCapacity = total('readCapacity');
    const writeCapacity = total('writeCapacity');
    const latencies = many.flatMap((r) => r.latencies);
    const ratios = rounds.map((r) => r.raw / r.useCase).sort((a, b) => a - b);
    const latency = (values: readonly number[]) => `p50 ${percentile(values, 50).toFixed(0)} ms, p99 ${percentile(values, 99).toFixed(0)} ms`;
    const sum = (key: 'useCase' | 'raw') => rounds.reduce((n, r) => n + r[key], 0).toFixed(0);
    const perClientOne = one.requests / creates;
    const perClientMany = requests / (creates * ROUNDS);
    const cancelledPerClient = cancelled / (creates * ROUNDS);
    const results: BudgetResult[] = [
      {
        budget: 3,
        name: `${creates} client creates at concurrency ${concurrency}: requests per client`,
        measured: perClientMany / perClientOne,
        limit: MAX_REQUEST_RATIO,
        kind: 'max',
        detail: `requests/client c${concurrency} / c1 (${perClientMany.toFixed(2)} / ${perClientOne.toFixed(2)}); cancelled transactions/client ${cancelledPerClient.toFixed(2)} (c1 ${(one.cancelled / creates).toFixed(2)})`,
      },
      {
        budget: 3,
        name: `${creates} client creates at concurrency ${concurrency}: throughput vs raw`,
        measured: median(ratios),
        limit: MIN_THROUGHPUT_TO_RAW,
        kind: 'min',
        detail: `median over ${ROUNDS} rounds (turns of ${TURN}) of raw ms / use-case ms (${ratios.map((r) => r.toFixed(2)).join(', ')}; sums ${sum('raw')} / ${sum('useCase')})`,
      },
    ];
    return {
      results,
      notes: [`hot-keys: one client create alone ${latency(one.latencies)}; at concurrency ${concurrency} ${latency(latencies)}`],
      operations: [
        {
          operation: 'POST /v1/clients (no login)',
          calls: perClientMany,
          readCapacity: readCapacity / (creates * ROUNDS),
          writeCapacity: writeCapacity / (creates * ROUNDS),
          // One create's wall time when it runs alone (the concurrency-1 run), for Lambda duration.
          ms: one.ms / creates,
        },
      ],
    };
  });
}

const [argCreates, argConcurrency] = process.argv.slice(2).map(Number);
await runStandalone(import.meta.url, () => run(argCreates || undefined, argConcurrency || undefined));

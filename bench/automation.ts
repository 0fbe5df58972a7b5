/**
 * The daily automation's cost against its work, not against the company (issue 13, budget 7). Two companies are
 * seeded straight into DynamoDB with the store's own mappers (`clientToItem`, `serviceToItem` with its GSI2 renewal
 * entry from `serviceIndexKeys`, the service pointer `refItem`), in batch writes, each with 100 services renewing
 * the day before the run date and 1,000 on it:
 *
 * - **S**: 10,000 services; **L**: 100,000 services.
 *
 * Each company runs the day before (100 due: for S the warm-up, so no measured run pays for the JIT; for L the
 * "100 due" measurement), then the run date (1,000 due). The issue asks for 1,000,000 services with 1% due: DynamoDB
 * Local takes batch writes at a few hundred services a second on this 2-core machine, so 1,000,000 would not seed
 * within the whole bench's 15 minutes; 10,000 vs 100,000 (the same 10× step) stands in, and 100 vs 1,000 due at
 * 100,000. The run date's runs also read the 100 invoices of the day before, still open (their first late notice
 * is set two days after due, so none is sent): their reads are in the per-due figure, as a real day's would be.
 *
 * Each due service has a client of its own with one more service that is not due (the group invoices services
 * together, so the client's services are read with it); the services that are not due belong to filler clients
 * (100 each, without the services' pointer items) the run never reads. Monthly services, `invoiceDaysBeforeRenewal`
 * 0, the other settings the defaults.
 *
 * Each run is started with `startRun` (the run record and the lock, as the API does; the execution start is
 * captured) and driven as the state machine drives it: every task in order, `handleTask` with `action: page` until
 * the task is done, then `finish` — the task Lambda's own handler, so every read and write is the deployed one (the
 * state transitions are priced in bench/cost.ts, not timed here). Mail goes to a mailer that keeps nothing (SES is
 * priced, not timed). DynamoDB calls are recorded (test/support/dynamo-calls.ts): items read are what DynamoDB read
 * (a Query's ScannedCount, a batch read's items), before any filter.
 *
 *   npx tsx bench/automation.ts [largeServices=100000]
 */
import '../bin/local/preamble.js';
import { blankClient } from '../test/support/blank-client.js';
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ensureTables } from '../bin/local/tables.js';
import { generateLocalSigningKey } from '../functions/adapters/identity/local.js';
import type { RunExecutionInput } from '../functions/automation/start-run.js';
import { startRun } from '../functions/automation/start-run.js';
import { handleTask } from '../functions/automation/task-handler.js';
import type { TaskPageResult } from '../functions/automation/run-task-page.js';
import { TASK_NAMES } from '../functions/automation/task.js';
import type { Client } from '../functions/domain/client.js';
import { newCompany, type Company } from '../functions/domain/company.js';
import { addDays } from '../functions/domain/dates.js';
import { newDefaultGroup } from '../functions/domain/group.js';
import { newId } from '../functions/domain/ids.js';
import type { Service } from '../functions/domain/service.js';
import { DEFAULT_GROUP_SETTINGS } from '../functions/domain/settings.js';
import { getServices, overrideServices } from '../functions/services.js';
import { clientToItem } from '../functions/store/clients.js';
import { putNewCompany } from '../functions/store/companies.js';
import { batchWriteAll, type Item } from '../functions/store/dynamo.js';
import { refItem } from '../functions/store/refs.js';
import { serviceToItem } from '../functions/store/services.js';
import { recordDynamoCalls, type DynamoCall } from '../test/support/dynamo-calls.js';
import { benchDynamoEndpoint, isEntry, runStandalone } from './support/dynamo.js';
import type { BenchOutcome, BudgetResult } from './support/report.js';

/** Budgets of issue 13, item 7. */
const MAX_ITEMS_PER_DUE = 1.2;
const MAX_TIME_10X_SERVICES = 1.5;
const MAX_TIME_10X_DUE = 12;

/** The run date, and the day before; due services renew on them. */
const DATE = '2027-03-01';
const DAY_BEFORE = '2027-02-28';
const DUE_ON_DATE = 1_000;
const DUE_DAY_BEFORE = 100;
const NOW = '2027-02-01T00:00:00.000Z';
/** Batch writes in flight while seeding. */
const SEED_CONCURRENCY = 8;
const FILLER_SERVICES_PER_CLIENT = 100;

function clientOf(companyId: string, groupId: string, n: number): Client {
  const blank = blankClient({
    groupId,
    firstName: 'Bench',
    lastName: `Client${n}`,
    country: 'US',
    email: `c${n}@${companyId.toLowerCase()}.bench.test`,
    createdAt: NOW,
  });
  return { ...blank, number: n };
}

/** A monthly service whose next period to invoice starts on `renewsOn` (its first term invoiced a month before). */
function serviceOf(clientId: string, renewsOn: string): Service {
  const start = new Date(`${renewsOn}T00:00:00Z`);
  start.setUTCMonth(start.getUTCMonth() - 1);
  return {
    id: newId('svc'),
    clientId,
    packageId: 'pkg_bench',
    packageName: 'Hosting',
    pricing: { id: 'price_bench', term: 1, period: 'month', price: 1000, setupFee: 0, currency: 'USD' },
    quantity: '1',
    status: 'active',
    suspendedBy: null,
    suspendedOn: null,
    canceledOn: null,
    startDate: start.toISOString().slice(0, 10),
    periodsInvoiced: 1,
    paidPeriods: [],
    createdAt: NOW,
    updatedAt: NOW,
    version: 1,
  };
}

/** Writes items in batches of 25, `SEED_CONCURRENCY` batches at once. */
async function writeAll(items: Item[]): Promise<void> {
  let next = 0;
  const batch = 25;
  await Promise.all(
    Array.from({ length: SEED_CONCURRENCY }, async () => {
      while (next < items.length) {
        const from = next;
        next += batch;
        await batchWriteAll(items.slice(from, from + batch).map((Item) => ({ PutRequest: { Item } })));
      }
    }),
  );
}

interface Seeded {
  company: Company;
  services: number;
}

/**
 * A company of `services` services: DUE_DAY_BEFORE renewing on DAY_BEFORE, DUE_ON_DATE on DATE, the others within the
 * next 11 months.
 */
async function seedCompany(name: string, services: number): Promise<Seeded> {
  const group = newDefaultGroup(newId('grp'), NOW);
  const base = newCompany({ id: newId('co'), name, defaultCurrency: 'USD', timeZone: 'UTC', defaultGroupId: group.id }, NOW);
  const company: Company = {
    ...base,
    groupSettings: {
      ...DEFAULT_GROUP_SETTINGS,
      invoiceDaysBeforeRenewal: 0,
      paymentDueNotices: { ...DEFAULT_GROUP_SETTINGS.paymentDueNotices, firstNoticeDays: 2 },
    },
  };
  await putNewCompany(company, group);
  let number = 0;
  let items: Item[] = [];
  const flush = async (force = false) => {
    if (items.length < 5000 && !force) return;
    await writeAll(items);
    items = [];
  };
  const later = (i: number) => addDays(DATE, 1 + (i % 330));
  // Filler services get no pointer item (`refItem`, for reads of a service by its bare id): nothing reads them, and
  // it halves what has to be seeded.
  const add = async (client: Client, owned: Service[], pointers = true) => {
    items.push(clientToItem(company.id, client, []));
    for (const s of owned) items.push(serviceToItem(company.id, s), ...(pointers ? [refItem(company.id, s.id, 'service', s.clientId)] : []));
    await flush();
  };
  const due = DUE_DAY_BEFORE + DUE_ON_DATE;
  for (let i = 0; i < due; i++) {
    const client = clientOf(company.id, group.id, ++number);
    await add(client, [serviceOf(client.id, i < DUE_DAY_BEFORE ? DAY_BEFORE : DATE), serviceOf(client.id, later(i))]);
  }
  for (let left = services - 2 * due, i = 0; left > 0; left -= FILLER_SERVICES_PER_CLIENT) {
    const client = clientOf(company.id, group.id, ++number);
    await add(
      client,
      Array.from({ length: Math.min(left, FILLER_SERVICES_PER_CLIENT) }, () => serviceOf(client.id, later(i++))),
      false,
    );
  }
  await flush(true);
  return { company, services };
}

export interface RunMeasure {
  seconds: number;
  calls: DynamoCall[];
  itemsRead: number;
  readCapacity: number;
  writeCapacity: number;
  acted: number;
  examined: number;
  byTask: Record<string, { calls: number; itemsRead: number; examined: number; acted: number }>;
  pages: number;
}

/** Starts the company's run for `date` and pages it through the task handler as the state machine does. */
async function runAutomation(company: Company, date: string): Promise<RunMeasure> {
  let input: RunExecutionInput | undefined;
  const real = getServices().workflow;
  overrideServices({
    workflow: {
      start: async (_name, execution) => {
        input = execution as unknown as RunExecutionInput;
        return 'started';
      },
    },
  });
  const recorder = recordDynamoCalls();
  const started = process.hrtime.bigint();
  let pages = 0;
  const byTask: Record<string, { calls: number; itemsRead: number; examined: number }> = {};
  try {
    const result = await startRun({ companyId: company.id, date, trigger: 'api' });
    if (result.outcome !== 'started' || !input) throw new Error('The bench run did not start.');
    const { runId, companyId, dryRun } = input;
    for (const task of TASK_NAMES) {
      if (!input.tasks[task]) continue;
      let cursor: string | null = '';
      const from = recorder.calls.length;
      do {
        const page = (await handleTask({ action: 'page', runId, companyId, date, dryRun, task, cursor, pages })) as TaskPageResult;
        pages = page.pages;
        cursor = page.done ? null : page.cursor;
      } while (cursor !== null);
      const taskCalls = recorder.calls.slice(from);
      byTask[task] = { calls: taskCalls.length, itemsRead: taskCalls.reduce((n, c) => n + c.itemsRead, 0), examined: 0 };
    }
    const finished = (await handleTask({ action: 'finish', runId, companyId })) as { status: string };
    if (finished.status !== 'succeeded') throw new Error(`The bench run ended ${finished.status}.`);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const totals = recorder.totals();
    const run = await import('../functions/store/automation-runs.js').then((m) => m.requireRun(companyId, runId));
    return {
      seconds,
      calls: [...recorder.calls],
      itemsRead: totals.itemsRead,
      readCapacity: totals.readCapacity,
      writeCapacity: totals.writeCapacity,
      acted: run.tasks.reduce((n, t) => n + t.acted, 0),
      examined: run.tasks.reduce((n, t) => n + t.examined, 0),
      byTask: Object.fromEntries(run.tasks.map((t) => [t.name, { ...(byTask[t.name] ?? { calls: 0, itemsRead: 0 }), examined: t.examined, acted: t.acted }])),
      pages,
    };
  } finally {
    recorder.stop();
    overrideServices({ workflow: real });
  }
}

/** Items read by kind of read, largest first, for the notes. */
function readsBreakdown(m: RunMeasure, due: number): string {
  const by = new Map<string, number>();
  for (const c of m.calls) {
    if (!c.itemsRead) continue;
    const what = `${c.command.replace('Command', '')}${c.index ? ` ${c.index}` : ''} ${(c.partitions[0] ?? '').replace(/CO#co_[0-9A-Z]+/, 'CO#<co>').replace(/#(CL|RUN)#\w+/, '#$1#<id>')}`;
    by.set(what, (by.get(what) ?? 0) + c.itemsRead);
  }
  return [...by.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([what, n]) => `${what}: ${(n / due).toFixed(2)}/due`)
    .join('; ');
}

const tasksBreakdown = (m: RunMeasure) =>
  Object.entries(m.byTask)
    .map(([name, t]) => `${name} ${t.calls} calls/${t.itemsRead} read/${t.examined} examined/${t.acted} acted`)
    .join('; ');

const mailerThatKeepsNothing = { send: async () => ({ messageId: `bench-${randomBytes(6).toString('hex')}` }) };

export async function run(options: { largeServices?: number } = {}): Promise<BenchOutcome> {
  benchDynamoEndpoint();
  const large = options.largeServices ?? (Number(process.env.BILLOW_BENCH_AUTOMATION_SERVICES) || 100_000);
  const small = large / 10;
  const previousTable = process.env.BILLOW_TABLE;
  const realMailer = getServices().mailer;
  try {
    Object.assign(process.env, {
      BILLOW_TABLE: `billow-bench-automation-${randomBytes(3).toString('hex')}`,
      BILLOW_IDENTITY_TABLE: process.env.BILLOW_IDENTITY_TABLE ?? 'billow-bench-identity',
      BILLOW_SIGNING_SECRET: process.env.BILLOW_SIGNING_SECRET ?? randomBytes(32).toString('hex'),
      BILLOW_LOCAL_IDENTITY_KEY: process.env.BILLOW_LOCAL_IDENTITY_KEY ?? JSON.stringify(await generateLocalSigningKey()),
    });
    await ensureTables(new DynamoDBClient({}), { app: process.env.BILLOW_TABLE as string, identity: process.env.BILLOW_IDENTITY_TABLE as string });
    // Mail is SES's cost (bench/cost.ts prices it), not DynamoDB's; the run must not wait on a stand-in.
    overrideServices({ mailer: mailerThatKeepsNothing });

    const seedStarted = process.hrtime.bigint();
    const s = await seedCompany('Automation bench S', small);
    const l = await seedCompany('Automation bench L', large);
    const seedSeconds = Number(process.hrtime.bigint() - seedStarted) / 1e9;
    const seeded = s.services + l.services;
    process.stderr.write(`automation: seeded ${seeded.toLocaleString('en-US')} services in ${seedSeconds.toFixed(0)} s\n`);

    await runAutomation(s.company, DAY_BEFORE); // the warm-up
    const ms = await runAutomation(s.company, DATE);
    const ml10 = await runAutomation(l.company, DAY_BEFORE);
    const ml = await runAutomation(l.company, DATE);
    for (const [m, due] of [
      [ms, DUE_ON_DATE],
      [ml, DUE_ON_DATE],
      [ml10, DUE_DAY_BEFORE],
    ] as const) {
      if (m.byTask.renewals.acted < due) throw new Error(`The run renewed ${m.byTask.renewals.acted} of ${due} due services.`);
    }

    const fmt = (n: number) => n.toLocaleString('en-US');
    // The same ratio in DynamoDB work, which the machine's load does not blur: calls, items read, write units.
    const work = (a: RunMeasure, b: RunMeasure) =>
      `calls ×${(a.calls.length / b.calls.length).toFixed(2)}, items read ×${(a.itemsRead / b.itemsRead).toFixed(2)}, WCU ×${(a.writeCapacity / b.writeCapacity).toFixed(2)}`;
    const perDue = (m: RunMeasure, due: number) => m.itemsRead / due;
    const worst = Math.max(perDue(ms, DUE_ON_DATE), perDue(ml, DUE_ON_DATE), perDue(ml10, DUE_DAY_BEFORE));
    const results: BudgetResult[] = [
      {
        budget: 7,
        name: 'automation: items read per due service',
        measured: worst,
        limit: MAX_ITEMS_PER_DUE,
        kind: 'max',
        detail: `worst of ${fmt(s.services)}/${fmt(DUE_ON_DATE)} due ${perDue(ms, DUE_ON_DATE).toFixed(2)}, ${fmt(l.services)}/${fmt(DUE_ON_DATE)} ${perDue(ml, DUE_ON_DATE).toFixed(2)}, ${fmt(l.services)}/${fmt(DUE_DAY_BEFORE)} ${perDue(ml10, DUE_DAY_BEFORE).toFixed(2)}; all six tasks, every read`,
      },
      {
        budget: 7,
        name: `automation: time, 10× services, same ${fmt(DUE_ON_DATE)} due`,
        measured: ml.seconds / ms.seconds,
        limit: MAX_TIME_10X_SERVICES,
        kind: 'max',
        detail: `${fmt(l.services)} services ${ml.seconds.toFixed(1)} s / ${fmt(s.services)} ${ms.seconds.toFixed(1)} s; work ${work(ml, ms)} (not 100,000 vs 1,000,000: seeding time)`,
      },
      {
        budget: 7,
        name: `automation: time, 10× due at ${fmt(l.services)} services`,
        measured: ml.seconds / ml10.seconds,
        limit: MAX_TIME_10X_DUE,
        kind: 'max',
        detail: `${fmt(DUE_ON_DATE)} due ${ml.seconds.toFixed(1)} s / ${fmt(DUE_DAY_BEFORE)} due ${ml10.seconds.toFixed(1)} s; work ${work(ml, ml10)}`,
      },
    ];
    const notes = [
      `automation: seeded ${fmt(seeded)} services (store mappers, batch writes) in ${seedSeconds.toFixed(0)} s; 1,000,000 would take ~${(((seedSeconds / seeded) * 1e6) / 60).toFixed(0)} min here, so 10,000 vs 100,000 services stand in for 100,000 vs 1,000,000`,
      ...(
        [
          ['S', ms, s, DUE_ON_DATE],
          ['L', ml, l, DUE_ON_DATE],
          ['L, day before', ml10, l, DUE_DAY_BEFORE],
        ] as const
      ).flatMap(([label, m, company, due]) => [
        `automation ${label} (${fmt(company.services)} services, ${fmt(due)} due): ${m.seconds.toFixed(1)} s, ${m.calls.length} calls, ${fmt(m.itemsRead)} items read, ${m.readCapacity.toFixed(0)} RCU, ${m.writeCapacity.toFixed(0)} WCU, ${m.pages} pages`,
        `  items read per due service by read: ${readsBreakdown(m, due)}`,
        `  by task: ${tasksBreakdown(m)}`,
      ]),
    ];
    return {
      results,
      notes,
      operations: [
        {
          // The whole run (every task) per due service: what a renewal costs the daily run.
          operation: 'automation per due object',
          calls: ml.calls.length / DUE_ON_DATE,
          readCapacity: ml.readCapacity / DUE_ON_DATE,
          writeCapacity: ml.writeCapacity / DUE_ON_DATE,
          ms: (ml.seconds * 1000) / DUE_ON_DATE,
        },
        {
          // One task Lambda invocation (a page, or the finish): the cost model's request count.
          operation: 'automation page',
          calls: ml.calls.length / (ml.pages + 1),
          readCapacity: ml.readCapacity / (ml.pages + 1),
          writeCapacity: ml.writeCapacity / (ml.pages + 1),
          ms: (ml.seconds * 1000) / (ml.pages + 1),
        },
      ],
    };
  } finally {
    overrideServices({ mailer: realMailer });
    if (previousTable === undefined) delete process.env.BILLOW_TABLE;
    else process.env.BILLOW_TABLE = previousTable;
  }
}

await runStandalone(import.meta.url, () => run({ largeServices: Number(process.argv[2]) || undefined }));
if (isEntry(import.meta.url)) process.exit(process.exitCode ?? 0);

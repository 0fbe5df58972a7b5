/**
 * Budget 1 of issue 13: reads grow with the page, not with the company or the client's history. Seeds a company of
 * 50 clients whose probe client has 5 invoices and one of 5,000 clients whose probe has 500 (with payments, mail,
 * contacts and notes alike), then makes the same API requests in both — the profile, summary, statements, every
 * list and filter — and compares the DynamoDB calls and read capacity each request cost (large ÷ small ≤ 1.1).
 * Requests go through the local API in this process (routing, validation, the route's use case), so what is
 * counted is what the deployed function sends. Capacity and calls are deterministic; the time of each request is
 * reported for the cost model only.
 *
 *   npx tsx bench/reads.ts [smallClients=50] [largeClients=5000] [largeInvoices=500]
 */
import '../bin/local/preamble.js';
import { runStandalone } from './support/dynamo.js';
import { inParallel, measure, median, ratio, type Measured } from './support/measure.js';
import type { BenchOutcome, BudgetResult, OperationCost } from './support/report.js';
import { clientDraft, seedClients } from './support/seed.js';
import { retryingBusy, startBenchStack, type BenchCompany, type BenchStack } from './support/stack.js';

const LIMIT = 1.1;
/** The probe's history: invoices 5 and 500, of which 2 in 5 are paid (2 and 200 payments), and as many emails. */
const HISTORY = { small: 5, large: 500 };
/** The newest invoice's date; each older one is 3 days before the next, so 500 reach back to 2022. */
const NEWEST_INVOICE = Date.UTC(2026, 10, 1);
const DAY = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const invoiceDate = (j: number) => isoDay(NEWEST_INVOICE - 3 * j * DAY);
const AMOUNT = 1000;

interface Fixture {
  label: string;
  clients: number;
  company: BenchCompany;
  probe: string;
  secondGroup: string;
  seedSeconds: number;
}

/**
 * A company of `clients` generated clients, the last three special so a filter finds them only at the end of any
 * order: one inactive in the default group, one active and one inactive in a second group. So every filter returns
 * the same rows in both companies: `status=inactive` 2, `groupId` 2, both 1, `q=fam` a full page. Then the probe
 * client (`q=probe` finds it alone), created through the API, with `invoices` invoices.
 */
async function seedCompany(stack: BenchStack, label: string, clients: number, invoices: number): Promise<Fixture> {
  const started = Date.now();
  const company = await stack.createCompany(`Bench ${label}`);
  const token = company.staffToken;
  const secondGroup = (await stack.call('POST', '/v1/client-groups', { token, body: { name: 'Second' } })).body.id as string;
  const drafts = Array.from({ length: clients }, (_, i) => {
    const fromEnd = clients - i;
    if (fromEnd === 3) return clientDraft(i, company.defaultGroupId, 'inactive');
    if (fromEnd === 2) return clientDraft(i, secondGroup, 'active');
    if (fromEnd === 1) return clientDraft(i, secondGroup, 'inactive');
    return clientDraft(i, company.defaultGroupId);
  });
  const seedStarted = Date.now();
  await seedClients(company.companyId, drafts);
  console.log(`  ${label}: ${clients.toLocaleString('en-US')} clients seeded in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s`);

  const probe = (await stack.call('POST', '/v1/clients', { token, body: { firstName: 'Probe', lastName: 'Person', email: `probe-${label}@example.com` } })).body
    .id as string;
  const base = `/v1/clients/${probe}`;
  await Promise.all([
    ...[1, 2, 3].map((n) =>
      stack.call('POST', `${base}/contacts`, { token, body: { type: 'billing', firstName: 'Con', lastName: `Tact${n}`, email: `contact${n}@example.com` } }),
    ),
    ...[1, 2, 3].map((n) => stack.call('POST', `${base}/notes`, { token, body: { summary: `note ${n}`, sticky: n === 1 } })),
  ]);
  // Oldest first, so numbers follow dates; the invoice counter admits few creates at once.
  const ids: string[] = new Array(invoices);
  await inParallel(invoices, 3, async (k) => {
    const j = invoices - 1 - k;
    const body = {
      dateBilled: invoiceDate(j),
      dateDue: invoiceDate(j),
      lines: [{ description: `Work ${j}`, quantity: 1, unitAmount: AMOUNT, taxable: false }],
    };
    ids[j] = (await retryingBusy(() => stack.call('POST', `${base}/invoices`, { token, body }))).body.id;
  });
  const paid = ids.map((id, j) => ({ id, j })).filter(({ j }) => j % 5 === 1 || j % 5 === 2);
  await inParallel(paid.length, 3, async (k) => {
    const { id, j } = paid[k];
    const body = {
      type: 'check',
      amount: AMOUNT,
      currency: 'USD',
      date: isoDay(NEWEST_INVOICE - (3 * j - 1) * DAY),
      apply: [{ invoiceId: id, amount: AMOUNT }],
    };
    await retryingBusy(() => stack.call('POST', `${base}/payments/record`, { token, body }));
  });
  await inParallel(paid.length, 3, (k) => stack.call('POST', `${base}/emails`, { token, body: { subject: `Note ${k}`, html: `<p>Mail ${k}</p>` } }));
  const seedSeconds = (Date.now() - started) / 1000;
  console.log(`  ${label}: probe with ${invoices} invoices, ${paid.length} payments, ${paid.length} emails; ${seedSeconds.toFixed(1)} s in all`);
  return { label, clients, company, probe, secondGroup, seedSeconds };
}

interface Read {
  name: string;
  method?: 'GET' | 'POST';
  path: (f: Fixture) => string;
  body?: unknown;
  /** A write whose reads are measured: run once per fixture, capacity compared only. */
  once?: boolean;
}

const SORTS = ['number', '-number', 'lastName', 'company', 'createdAt', '-createdAt'];

const READS: Read[] = [
  { name: 'profile', path: (f) => `/v1/clients/${f.probe}` },
  { name: 'summary', path: (f) => `/v1/clients/${f.probe}/summary` },
  { name: 'statement, a period with 1 invoice', path: (f) => `/v1/clients/${f.probe}/statement?from=${invoiceDate(0)}&to=${invoiceDate(0)}` },
  { name: 'statement, an empty period in 2020', path: (f) => `/v1/clients/${f.probe}/statement?from=2020-01-01&to=2020-01-31` },
  ...SORTS.map((sort) => ({ name: `client list ?sort=${sort}`, path: () => `/v1/clients?sort=${sort}&limit=25` })),
  { name: 'client list ?status=inactive', path: () => '/v1/clients?status=inactive' },
  { name: 'client list ?groupId=', path: (f: Fixture) => `/v1/clients?groupId=${f.secondGroup}` },
  { name: 'client list ?groupId=&status=', path: (f: Fixture) => `/v1/clients?groupId=${f.secondGroup}&status=inactive` },
  { name: 'client search ?q=fam', path: () => '/v1/clients?q=fam&limit=25' },
  { name: 'client search ?q=probe (1 match)', path: () => '/v1/clients?q=probe&limit=25' },
  { name: 'client search ?q=fam&status=inactive', path: () => '/v1/clients?q=fam&status=inactive' },
  { name: 'invoices ?clientId=&status=open', path: (f) => `/v1/invoices?clientId=${f.probe}&status=open&limit=3` },
  { name: 'invoices ?status=paid', path: () => '/v1/invoices?status=paid&limit=2' },
  { name: 'transactions', path: (f) => `/v1/clients/${f.probe}/transactions?limit=2` },
  { name: 'mail log', path: (f) => `/v1/clients/${f.probe}/emails?limit=2` },
  { name: 'contacts', path: (f) => `/v1/clients/${f.probe}/contacts` },
  { name: 'notes', path: (f) => `/v1/clients/${f.probe}/notes` },
];

/** Reads repeated per fixture for the time median (capacity and calls are the same every time). */
const RUNS = 5;

async function measureRead(stack: BenchStack, read: Read, f: Fixture): Promise<{ cost: Measured; ms: number }> {
  const request = () => stack.call(read.method ?? 'GET', read.path(f), { token: f.company.staffToken, body: read.body });
  const runs: Measured[] = [];
  for (let r = 0; r < (read.once ? 1 : RUNS); r++) runs.push(await measure(request));
  return { cost: runs[runs.length - 1], ms: median(runs.map((m) => m.ms)) };
}

export async function run(small = 50, large = 5000, largeHistory = HISTORY.large): Promise<BenchOutcome> {
  const history = { small: HISTORY.small, large: largeHistory };
  const stack = await startBenchStack();
  try {
    console.log(`  seeding a company of ${small} clients (${history.small} invoices) and one of ${large} (${history.large} invoices)…`);
    const a = await seedCompany(stack, 'small', small, history.small);
    const b = await seedCompany(stack, 'large', large, history.large);
    // Loose credit of 1 cent in both, applied last: credits/apply reads the open invoices it could pay.
    for (const f of [a, b]) {
      await stack.call('POST', `/v1/clients/${f.probe}/payments/record`, { token: f.company.staffToken, body: { type: 'cash', amount: 1, currency: 'USD' } });
    }
    const reads: Read[] = [...READS, { name: 'credits/apply', method: 'POST', path: (f) => `/v1/clients/${f.probe}/credits/apply`, body: {}, once: true }];

    const results: BudgetResult[] = [];
    const operations: OperationCost[] = [];
    for (const read of reads) {
      // Warm both paths alike (module loading, the JIT) before anything is measured.
      if (!read.once) for (const f of [a, b]) await stack.call('GET', read.path(f), { token: f.company.staffToken });
      const s = await measureRead(stack, read, a);
      const l = await measureRead(stack, read, b);
      results.push({
        budget: 1,
        name: `${read.name}: read capacity`,
        measured: ratio(l.cost.readCapacity, s.cost.readCapacity),
        limit: LIMIT,
        kind: 'max',
        detail: `RCU ${large} clients/${history.large} invoices ÷ ${small}/${history.small} (${l.cost.readCapacity.toFixed(1)} / ${s.cost.readCapacity.toFixed(1)}; items read ${l.cost.itemsRead} / ${s.cost.itemsRead})`,
      });
      if (!read.once) {
        results.push({
          budget: 1,
          name: `${read.name}: calls`,
          measured: ratio(l.cost.calls, s.cost.calls),
          limit: LIMIT,
          kind: 'max',
          detail: `DynamoDB calls large ÷ small (${l.cost.calls} / ${s.cost.calls}); median ${l.ms.toFixed(1)} / ${s.ms.toFixed(1)} ms`,
        });
      }
      operations.push({
        operation: `${read.method ?? 'GET'} ${read.name}`,
        calls: l.cost.calls,
        readCapacity: l.cost.readCapacity,
        writeCapacity: l.cost.writeCapacity,
        ms: l.ms,
      });
      console.log(
        `  ${read.name.padEnd(40)} RCU ${s.cost.readCapacity.toFixed(1).padStart(6)} → ${l.cost.readCapacity.toFixed(1).padStart(7)}   calls ${String(s.cost.calls).padStart(3)} → ${String(l.cost.calls).padStart(3)}`,
      );
    }
    return {
      results,
      operations,
      notes: [
        `Seeding: ${small} clients + ${history.small} invoices in ${a.seedSeconds.toFixed(0)} s, ${large} clients + ${history.large} invoices in ${b.seedSeconds.toFixed(0)} s (clients written as insertClient builds them, in batches; the probe's history through the API).`,
      ],
    };
  } finally {
    await stack.stop();
  }
}

await runStandalone(import.meta.url, () => {
  const [small, large, invoices] = process.argv.slice(2).map(Number);
  return run(small || undefined, large || undefined, invoices || undefined);
});

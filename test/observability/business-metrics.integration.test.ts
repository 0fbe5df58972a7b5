import { randomBytes } from 'node:crypto';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalGateway } from '../../functions/adapters/gateway/local.js';
import type { Workflow } from '../../functions/adapters/workflow/port.js';
import { finishRun } from '../../functions/automation/finish-run.js';
import { recordFailure } from '../../functions/automation/record-failure.js';
import { startRun } from '../../functions/automation/start-run.js';
import { makePayment } from '../../functions/billing/payments/make-payment.js';
import { RECONCILE_GRACE_MS, reconcileStalePayments } from '../../functions/billing/payments/reconcile-handler.js';
import { REPLAY_WINDOW_MS } from '../../functions/billing/payments/reconcile-payment.js';
import { createCompany } from '../../functions/companies/create-company.js';
import type { ImportJob } from '../../functions/domain/import-job.js';
import { createImport } from '../../functions/imports/create-import.js';
import { handleImportMessage, type ImportMessage } from '../../functions/imports/worker.js';
import { METRIC, metrics, TASK_DIMENSION } from '../../functions/observability/metrics.js';
import { getServices, overrideServices } from '../../functions/services.js';
import { recordPage } from '../../functions/store/automation-runs.js';
import { getImport } from '../../functions/store/imports.js';
import { CARD_APPROVES, card } from '../support/billing.js';
import { injectDynamoFaults } from '../support/faults.js';
import { useImportsBucket } from '../support/imports-bucket.js';
import { seedClient, seedCompany } from '../billing/invoices/fixtures.js';

/**
 * The business metrics the dashboard's automation, imports and reconciliation panels and their alarms read
 * (lib/observability.ts) are counted where the outcomes happen, once each.
 */
const BUCKET = 'billow-imports-metrics-test';
const sent: ImportMessage[] = [];
useImportsBucket(BUCKET, sent);

let gateway: LocalGateway;
beforeAll(() => {
  const real = getServices().gateway;
  if (!(real instanceof LocalGateway)) throw new Error('These tests charge the simulated gateway.');
  gateway = real;
});
afterEach(() => {
  vi.restoreAllMocks();
  overrideServices({ gateway });
});

/** What `count` and `seconds` added to the invocation's metrics, summed by name. */
function watchCounts(): () => Record<string, number> {
  const spy = vi.spyOn(metrics, 'addMetric');
  return () => {
    const sums: Record<string, number> = {};
    for (const [name, , value] of spy.mock.calls) sums[name] = (sums[name] ?? 0) + (value as number);
    return sums;
  };
}

/** What was published at once per automation task: `<metric> <task>` → value. */
function watchTaskMetrics(): Map<string, number> {
  const published = new Map<string, number>();
  vi.spyOn(metrics, 'singleMetric').mockImplementation(() => {
    let task = '';
    const single = {
      addDimension: (name: string, value: string) => {
        if (name === TASK_DIMENSION) task = value;
        return single;
      },
      addMetric: (name: string, _unit: unknown, value: number) => {
        published.set(`${name} ${task}`, (published.get(`${name} ${task}`) ?? 0) + value);
        return single;
      },
    };
    return single as unknown as Metrics;
  });
  return published;
}

const startedNames = new Set<string>();
const workflow: Workflow = {
  start: async (name) => {
    if (startedNames.has(name)) return 'already_started';
    startedNames.add(name);
    return 'started';
  },
};

async function newCompany() {
  const username = `boss${randomBytes(3).toString('hex')}`;
  const { company } = await createCompany({
    name: 'Metrics Co',
    defaultCurrency: 'USD',
    timeZone: 'UTC',
    staff: { username, email: `${username}@example.com`, password: 'a good password' },
  });
  return company;
}

describe('automation metrics', () => {
  it('a run started counts once; when it finishes, failed or succeeded, and each task it did its actions and failures', async () => {
    overrideServices({ workflow });
    const company = await newCompany();
    const counts = watchCounts();
    const perTask = watchTaskMetrics();
    const run = await startRun({ companyId: company.id, date: '2031-02-01', tasks: ['notices', 'voids'], trigger: 'api' });
    if (run.outcome !== 'started') throw new Error('not started');
    expect(counts()[METRIC.automationRunsStarted]).toBe(1);

    const page = { companyId: company.id, runId: run.run.id, taskIndex: 5, source: 0, cursorIn: null, pageNo: 0, actions: [], at: new Date().toISOString() };
    expect(await recordPage({ ...page, task: 'voids', examined: 5, acted: 3, failed: 2, last: true })).toBe(true);
    await recordFailure({
      companyId: company.id,
      runId: run.run.id,
      task: 'notices',
      error: { Error: 'Error', Cause: JSON.stringify({ errorMessage: 'boom' }) },
    });
    await finishRun({ companyId: company.id, runId: run.run.id });
    // Finishing again (a retried Finish step) counts nothing more.
    await finishRun({ companyId: company.id, runId: run.run.id });

    expect(counts()[METRIC.automationRunsFailed]).toBe(1);
    expect(counts()[METRIC.automationRunsSucceeded]).toBeUndefined();
    expect(Object.fromEntries(perTask)).toEqual({
      [`${METRIC.automationTaskActions} voids`]: 3,
      [`${METRIC.automationTaskFailures} voids`]: 2,
      [`${METRIC.automationTaskActions} notices`]: 0,
      // The task itself failed: one more than the objects it failed at.
      [`${METRIC.automationTaskFailures} notices`]: 1,
    });

    const next = await startRun({ companyId: company.id, date: '2031-02-02', tasks: ['voids'], trigger: 'api' });
    if (next.outcome !== 'started') throw new Error('not started');
    await recordPage({ ...page, runId: next.run.id, task: 'voids', examined: 1, acted: 1, failed: 0, last: true });
    await finishRun({ companyId: company.id, runId: next.run.id });
    expect(counts()[METRIC.automationRunsSucceeded]).toBe(1);
    expect(counts()[METRIC.automationRunsStarted]).toBe(2);
  });
});

describe('import metrics', () => {
  it('counts every row of a finished chunk once, and its failed rows', async () => {
    const company = await newCompany();
    const { job } = await createImport({
      companyId: company.id,
      filename: 'clients.csv',
      options: { firstRowIsHeader: true, updateExisting: false, uniqueBy: 'email', dryRun: false },
    });
    // Four good rows and one whose currency the company does not take.
    const file = Buffer.from('Company,Currency\r\nA,USD\r\nB,USD\r\nC,XXX\r\nD,USD\r\nE,USD\r\n', 'utf8');
    await getServices().importFiles.put(job.objectKey, file, 'text/csv');
    const counts = watchCounts();
    sent.length = 0;
    const upload: ImportMessage = {
      Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: BUCKET }, object: { key: job.objectKey, size: file.length, sequencer: 'SEQ01' } } }],
    };
    await handleImportMessage(upload);
    const chunks = [...sent];
    while (sent.length) await handleImportMessage(sent.shift() as ImportMessage);
    // A redelivered chunk message finds its chunk done and counts nothing more.
    for (const chunk of chunks) await handleImportMessage(chunk);

    const finished = (await getImport(company.id, job.id)) as ImportJob;
    expect([finished.status, finished.created, finished.failed]).toEqual(['completed', 4, 1]);
    expect(counts()[METRIC.importRowsProcessed]).toBe(5);
    expect(counts()[METRIC.importRowsFailed]).toBe(1);
  });
});

describe('reconciliation metrics', () => {
  it('a run counts what it settled, failed and could not settle, and the age of the oldest attempt it left pending', async () => {
    const company = await seedCompany([]);
    const client = await seedClient(company);
    const staff = { role: 'staff' as const, userId: 'usr_staff', username: 'staff', companyId: company.id };
    // DynamoDB fails from the moment the gateway answered: the attempt is left pending.
    const faults = injectDynamoFaults();
    overrideServices({
      gateway: {
        name: gateway.name,
        livemode: gateway.livemode,
        tokenize: (details) => gateway.tokenize(details),
        refund: (request) => gateway.refund(request),
        charge: async (request) => {
          const result = await gateway.charge(request);
          faults.failWrites(true);
          return result;
        },
      },
    });
    let attemptCreatedAt: string;
    try {
      const result = await makePayment({
        companyId: company.id,
        principal: staff,
        clientId: client.id,
        currency: 'USD',
        apply: [],
        sendReceipt: false,
        source: { newCard: card(CARD_APPROVES) },
        otherAmount: 700,
      });
      if (result.outcome !== 'pending') throw new Error(`expected a pending attempt, got ${result.outcome}`);
      attemptCreatedAt = result.attempt.createdAt;
    } finally {
      faults.failWrites(false);
      faults.restore();
      overrideServices({ gateway });
    }

    // Past the gateway's replay window the attempt needs a person: it is left pending, and its age is what the alarm sees.
    let counts = watchCounts();
    const late = new Date(Date.parse(attemptCreatedAt) + REPLAY_WINDOW_MS + 60_000);
    expect(await reconcileStalePayments(late)).toEqual({ settled: 0, skipped: 1, failed: 0 });
    expect(counts()).toMatchObject({
      [METRIC.pendingChargesReconciled]: 0,
      [METRIC.pendingChargesFailed]: 0,
      [METRIC.pendingChargesNeedingAttention]: 1,
      [METRIC.oldestPendingChargeAgeSeconds]: (REPLAY_WINDOW_MS + 60_000) / 1000,
    });
    vi.restoreAllMocks();

    // Within the window it settles, and the run leaves nothing pending.
    counts = watchCounts();
    const now = new Date(Date.parse(attemptCreatedAt) + RECONCILE_GRACE_MS + 60_000);
    expect(await reconcileStalePayments(now)).toEqual({ settled: 1, skipped: 0, failed: 0 });
    expect(counts()).toMatchObject({
      [METRIC.pendingChargesReconciled]: 1,
      [METRIC.pendingChargesFailed]: 0,
      [METRIC.pendingChargesNeedingAttention]: 0,
      [METRIC.oldestPendingChargeAgeSeconds]: 0,
    });
  });
});

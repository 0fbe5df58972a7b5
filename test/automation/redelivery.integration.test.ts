import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dispatchRuns } from '../../functions/automation/dispatcher.js';
import { startRun } from '../../functions/automation/start-run.js';
import { handleTask } from '../../functions/automation/task-handler.js';
import { overrideServices } from '../../functions/services.js';
import { getRun, getScheduledRunId } from '../../functions/store/automation-runs.js';
import { requireInvoice } from '../../functions/store/invoices.js';
import { useTestClock } from '../support/clock.js';
import { useFreshTables } from '../support/tables.js';
import { recordingWorkflow, seedCompanyIn } from '../support/workflow.js';
import { openInvoice, seedClient, seedCompanyWith } from './tasks/fixtures.js';

/**
 * Redelivery of the automation's triggers (issue 14): EventBridge Scheduler fires at least once (the same hour twice,
 * at once), and Step Functions may run a task again after it succeeded (a lost answer, a retry). Each date of a
 * company is started once, and a task input run again repeats nothing.
 */

const NOW = '2030-01-01T00:00:00.000Z';
const { workflow, starts } = recordingWorkflow();
const seedCompany = (timeZone: string) => seedCompanyIn(timeZone, NOW);

beforeAll(async () => {
  await useFreshTables();
  overrideServices({ workflow });
});
beforeEach(() => {
  starts.length = 0;
});

describe('the schedule firing twice', () => {
  it('two dispatches of the same hour at once start each company’s date once', async () => {
    const companies = await Promise.all(['Europe/Paris', 'Asia/Tokyo', 'America/Chicago'].map(seedCompany));
    const clock = useTestClock('2030-05-10T12:00:00Z');
    try {
      const results = await Promise.all([dispatchRuns(), dispatchRuns()]);
      for (const company of companies) {
        const mine = starts.filter((n) => n.startsWith(`${company.id}-`));
        expect(mine, company.id).toEqual([`${company.id}-2030-05-10`]);
        const runId = await getScheduledRunId(company.id, '2030-05-10');
        expect((await getRun(company.id, runId as string))?.status).toBe('queued');
      }
      // The second dispatch of each company found the date started (or its lock held): no failure either way.
      expect(results.reduce((n, r) => n + r.failed, 0)).toBe(0);
      // Fired once more, later: nothing new.
      await dispatchRuns();
      for (const company of companies) expect(starts.filter((n) => n.startsWith(`${company.id}-`))).toHaveLength(1);
    } finally {
      clock.restore();
    }
  });

  it('the start entry for one company and date, three times at once, starts one run', async () => {
    const company = await seedCompany('UTC');
    const outcomes = await Promise.allSettled([1, 2, 3].map(() => startRun({ companyId: company.id, date: '2030-05-11', trigger: 'schedule' })));
    const started = outcomes.filter((o) => o.status === 'fulfilled' && o.value.outcome === 'started');
    expect(started).toHaveLength(1);
    // The others: already started, or refused while the first holds the company's run lock (run_in_progress).
    for (const o of outcomes) if (o.status === 'rejected') expect((o.reason as { code?: string }).code).toBe('run_in_progress');
    expect(starts).toEqual([`${company.id}-2030-05-11`]);
  });
});

describe('a Step Functions task input run again after it succeeded', () => {
  it('page, fail and finish answer the same and change nothing the second time', async () => {
    const company = await seedCompanyWith({ voidInvoicesDaysAfterDue: 10 });
    const client = await seedClient(company);
    const invoices = [await openInvoice(company, client, 1000, '2027-03-01'), await openInvoice(company, client, 2000, '2027-03-02')];
    const started = await startRun({ companyId: company.id, date: '2027-03-20', tasks: ['voids', 'notices'], trigger: 'api' });
    if (started.outcome !== 'started') throw new Error('not started');
    const run = { companyId: company.id, runId: started.run.id };
    const page = { action: 'page', ...run, date: '2027-03-20', dryRun: false, task: 'voids', cursor: '' } as const;

    const first = await handleTask(page);
    const voided = await Promise.all(invoices.map((i) => requireInvoice(company.id, i.id)));
    expect(voided.map((i) => i.status)).toEqual(['void', 'void']);
    expect(await handleTask(page)).toEqual(first);
    expect(await Promise.all(invoices.map((i) => requireInvoice(company.id, i.id)))).toEqual(voided);

    const fail = { action: 'fail', ...run, task: 'notices', error: { Error: 'Boom', Cause: 'the page kept failing' } } as const;
    await handleTask(fail);
    const afterFail = await getRun(company.id, started.run.id);
    await handleTask(fail);
    expect((await getRun(company.id, started.run.id))?.tasks).toEqual(afterFail?.tasks);

    const finish = { action: 'finish', ...run } as const;
    expect(await handleTask(finish)).toEqual({ status: 'failed' });
    const finished = await getRun(company.id, started.run.id);
    expect(finished?.tasks.find((t) => t.name === 'voids')).toMatchObject({ status: 'succeeded', examined: 2, acted: 2, failed: 0 });
    expect(await handleTask(finish)).toEqual({ status: 'failed' });
    expect(await getRun(company.id, started.run.id)).toEqual(finished);
    // A page of the finished run delivered late changes nothing either.
    await expect(handleTask({ ...page, cursor: null })).resolves.toEqual(first);
    expect(await getRun(company.id, started.run.id)).toEqual(finished);
  });
});

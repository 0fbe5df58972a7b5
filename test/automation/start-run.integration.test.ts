import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { finishRun } from '../../functions/automation/finish-run.js';
import { recordFailure } from '../../functions/automation/record-failure.js';
import { readRun, readRunActions } from '../../functions/automation/read-runs.js';
import { decodeTaskCursor, runTaskPage } from '../../functions/automation/run-task-page.js';
import { startRun, type RunExecutionInput } from '../../functions/automation/start-run.js';
import type { AutomationAction, WorkSource } from '../../functions/automation/task.js';
import { WORK_SOURCES } from '../../functions/automation/tasks/index.js';
import type { Workflow } from '../../functions/adapters/workflow/port.js';
import { newCompany, type Company } from '../../functions/domain/company.js';
import { ConflictError } from '../../functions/domain/errors.js';
import { newDefaultGroup } from '../../functions/domain/group.js';
import { newId } from '../../functions/domain/ids.js';
import { overrideServices } from '../../functions/services.js';
import { getRun, insertRun, recordPage } from '../../functions/store/automation-runs.js';
import { putNewCompany } from '../../functions/store/companies.js';
import { newRun } from '../../functions/domain/automation-run.js';
import { useFreshTables } from '../support/tables.js';

/** Run records, the company's run lock and page recording against DynamoDB Local, with a workflow that only records starts. */

const NOW = '2030-01-01T00:00:00.000Z';
const started: Array<{ name: string; input: RunExecutionInput }> = [];
const usedNames = new Set<string>();
const recordingWorkflow: Workflow = {
  start: async (name, input) => {
    if (usedNames.has(name)) return 'already_started';
    usedNames.add(name);
    started.push({ name, input: input as unknown as RunExecutionInput });
    return 'started';
  },
};

async function seedCompany(): Promise<Company> {
  const group = newDefaultGroup(newId('grp'), NOW);
  const company = newCompany({ id: newId('co'), name: 'Runs Co', defaultCurrency: 'USD', timeZone: 'Asia/Tokyo', defaultGroupId: group.id }, NOW);
  await putNewCompany(company, group);
  return company;
}

const action = (n: number, outcome: AutomationAction['outcome'] = 'done'): AutomationAction => ({
  task: 'voids',
  objectType: 'invoice',
  objectId: `inv_${n}`,
  clientId: 'cl_1',
  action: 'voided',
  outcome,
  details: { n },
});

/** A source of `total` objects, `limit` per page, counting how often each page was read. */
function fakeSource(name: string, total: number, outcome: AutomationAction['outcome'] = 'done'): WorkSource & { reads: number } {
  const source = {
    name,
    reads: 0,
    async page(_ctx: unknown, key: string | null, limit: number) {
      source.reads++;
      const from = key === null ? 0 : Number(key);
      const to = Math.min(total, from + Math.min(limit, 2));
      const actions = Array.from({ length: to - from }, (_, i) => action(from + i, outcome));
      return { examined: actions.length, acted: actions.length, failed: 0, actions, nextKey: to < total ? String(to) : null };
    },
  };
  return source;
}

const savedSources = { ...WORK_SOURCES };

beforeAll(async () => {
  await useFreshTables();
  overrideServices({ workflow: recordingWorkflow });
});
afterAll(() => Object.assign(WORK_SOURCES, savedSources));
beforeEach(() => {
  started.length = 0;
});

describe('starting a run', () => {
  it('records it queued for the company today, with every task pending, and starts an execution named for company, date and run', async () => {
    const company = await seedCompany();
    const result = await startRun({ companyId: company.id, trigger: 'api' });
    expect(result.outcome).toBe('started');
    if (result.outcome !== 'started') return;
    const run = result.run;
    expect(run.status).toBe('queued');
    expect(run.tasks.map((t) => [t.name, t.status])).toEqual(
      ['renewals', 'applyCredits', 'autoDebit', 'notices', 'suspensions', 'voids'].map((name) => [name, 'pending']),
    );
    expect(run.executionName).toBe(`${company.id}-${run.date}-${run.id}`);
    expect(run.executionName.length).toBeLessThanOrEqual(80);
    expect(started).toEqual([
      {
        name: run.executionName,
        input: {
          runId: run.id,
          companyId: company.id,
          date: run.date,
          dryRun: false,
          tasks: expect.objectContaining({ voids: true }),
          page: { cursor: '', pages: 0 },
        },
      },
    ]);
    expect(await getRun(company.id, run.id)).toEqual(run);
    await finishRun({ companyId: company.id, runId: run.id });
  });

  it('of two starts at once exactly one wins; the other is run_in_progress until the first finishes', async () => {
    const company = await seedCompany();
    const results = await Promise.allSettled([
      startRun({ companyId: company.id, date: '2030-01-05', trigger: 'api' }),
      startRun({ companyId: company.id, date: '2030-01-05', trigger: 'api' }),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0].reason).toBeInstanceOf(ConflictError);
    expect((lost[0].reason as ConflictError).code).toBe('run_in_progress');
    expect(started).toHaveLength(1);

    const first = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof startRun>>>).value;
    if (first.outcome !== 'started') throw new Error('not started');
    await finishRun({ companyId: company.id, runId: first.run.id });
    const again = await startRun({ companyId: company.id, date: '2030-01-05', trigger: 'api' });
    expect(again.outcome).toBe('started');
  });

  it('a lock left by an execution that died expires', async () => {
    const company = await seedCompany();
    const dead = newRun({
      id: newId('run'),
      companyId: company.id,
      date: '2030-01-02',
      dryRun: false,
      trigger: 'api',
      taskNames: ['voids'],
      requested: ['voids'],
      executionName: 'dead',
      now: NOW,
    });
    await insertRun(dead, { lockedUntil: '2000-01-01T00:00:00.000Z', now: new Date().toISOString(), scheduled: false });
    const result = await startRun({ companyId: company.id, date: '2030-01-03', trigger: 'api' });
    expect(result.outcome).toBe('started');
  });

  it('the schedule starts a company date once: a second start of the same date starts nothing', async () => {
    const company = await seedCompany();
    const first = await startRun({ companyId: company.id, date: '2030-01-06', trigger: 'schedule' });
    if (first.outcome !== 'started') throw new Error('not started');
    expect(first.run.executionName).toBe(`${company.id}-2030-01-06`);
    await finishRun({ companyId: company.id, runId: first.run.id });
    expect(await startRun({ companyId: company.id, date: '2030-01-06', trigger: 'schedule' })).toEqual({ outcome: 'already_started' });
    expect(started).toHaveLength(1);
  });
});

describe('pages of a run', () => {
  it('loops a task over its sources and pages, counts each page once even when it runs again, and lists the actions in order', async () => {
    const company = await seedCompany();
    const a = fakeSource('a', 5);
    const b = fakeSource('b', 1);
    WORK_SOURCES.voids = [a, b];
    const result = await startRun({ companyId: company.id, date: '2030-01-07', tasks: ['voids'], trigger: 'api' });
    if (result.outcome !== 'started') throw new Error('not started');
    const ctx = { runId: result.run.id, companyId: company.id, date: '2030-01-07', dryRun: false, task: 'voids' as const };

    let cursor: string | null = null;
    const cursors: Array<string | null> = [];
    do {
      cursors.push(cursor);
      const page = await runTaskPage({ ...ctx, cursor });
      // Step Functions runs a page again after a timeout: the second run is not counted.
      const again = await runTaskPage({ ...ctx, cursor });
      expect(again).toEqual(page);
      cursor = page.cursor;
    } while (cursor !== null);
    expect(cursors.map((c) => decodeTaskCursor(c))).toEqual([
      { s: 0, k: null, p: 0 },
      { s: 0, k: '2', p: 1 },
      { s: 0, k: '4', p: 2 },
      { s: 1, k: null, p: 3 },
    ]);

    const run = (await readRun(company.id, result.run.id)).run;
    expect(run.status).toBe('running');
    expect(run.startedAt).not.toBeNull();
    expect(run.tasks.find((t) => t.name === 'voids')).toEqual({ name: 'voids', status: 'succeeded', examined: 6, acted: 6, failed: 0 });
    const actions = await readRunActions(company.id, result.run.id, 100);
    expect(actions.items.map((x) => x.objectId)).toEqual(['inv_0', 'inv_1', 'inv_2', 'inv_3', 'inv_4', 'inv_0']);

    const finished = await finishRun({ companyId: company.id, runId: result.run.id });
    expect(finished.status).toBe('succeeded');
    expect(finished.tasks.filter((t) => t.name !== 'voids').every((t) => t.status === 'skipped')).toBe(true);
  });

  it('recordPage tells a page already recorded from a new one', async () => {
    const company = await seedCompany();
    const result = await startRun({ companyId: company.id, date: '2030-01-08', tasks: ['voids'], trigger: 'api' });
    if (result.outcome !== 'started') throw new Error('not started');
    const page = {
      companyId: company.id,
      runId: result.run.id,
      task: 'voids',
      taskIndex: 5,
      source: 0,
      cursorIn: null,
      pageNo: 0,
      examined: 3,
      acted: 1,
      failed: 2,
      actions: [action(1)],
      last: false,
      at: NOW,
    };
    expect(await recordPage(page)).toBe(true);
    expect(await recordPage(page)).toBe(false);
    expect(await recordPage({ ...page, cursorIn: 'next', pageNo: 1 })).toBe(true);
    const voids = (await getRun(company.id, result.run.id))?.tasks.find((t) => t.name === 'voids');
    expect(voids).toMatchObject({ status: 'running', examined: 6, acted: 2, failed: 4 });
  });

  it('a task that failed makes the run failed; the others keep their results; the lock is released', async () => {
    const company = await seedCompany();
    WORK_SOURCES.voids = [fakeSource('a', 1)];
    const result = await startRun({ companyId: company.id, date: '2030-01-09', tasks: ['notices', 'voids'], trigger: 'api' });
    if (result.outcome !== 'started') throw new Error('not started');
    await recordFailure({
      companyId: company.id,
      runId: result.run.id,
      task: 'notices',
      error: { Error: 'Error', Cause: JSON.stringify({ errorMessage: 'boom' }) },
    });
    await runTaskPage({ runId: result.run.id, companyId: company.id, date: '2030-01-09', dryRun: false, task: 'voids', cursor: null });
    const finished = await finishRun({ companyId: company.id, runId: result.run.id });
    expect(finished.status).toBe('failed');
    expect(finished.tasks.find((t) => t.name === 'notices')).toMatchObject({ status: 'failed', error: 'boom' });
    expect(finished.tasks.find((t) => t.name === 'voids')).toMatchObject({ status: 'succeeded', acted: 1 });
    expect((await startRun({ companyId: company.id, date: '2030-01-09', trigger: 'api' })).outcome).toBe('started');
  });

  it('a dry run embeds what it planned', async () => {
    const company = await seedCompany();
    WORK_SOURCES.voids = [fakeSource('a', 3, 'planned')];
    const result = await startRun({ companyId: company.id, date: '2030-01-10', tasks: ['voids'], dryRun: true, trigger: 'api' });
    if (result.outcome !== 'started') throw new Error('not started');
    let cursor: string | null = null;
    do {
      cursor = (await runTaskPage({ runId: result.run.id, companyId: company.id, date: '2030-01-10', dryRun: true, task: 'voids', cursor })).cursor;
    } while (cursor);
    const { run, planned } = await readRun(company.id, result.run.id);
    expect(run.plannedCount).toBe(3);
    expect(planned?.map((p) => p.objectId)).toEqual(['inv_0', 'inv_1', 'inv_2']);
  });
});

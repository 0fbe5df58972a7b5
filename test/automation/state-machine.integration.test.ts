import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalWorkflow } from '../../functions/adapters/workflow/local.js';
import { readRun, readRunActions } from '../../functions/automation/read-runs.js';
import { startRun } from '../../functions/automation/start-run.js';
import { EXECUTION_LIMITS } from '../../functions/automation/run-task-page.js';
import { handleTask } from '../../functions/automation/task-handler.js';
import type { AutomationAction, TaskName, WorkSource } from '../../functions/automation/task.js';
import { WORK_SOURCES } from '../../functions/automation/tasks/index.js';
import { newCompany, type Company } from '../../functions/domain/company.js';
import { newDefaultGroup } from '../../functions/domain/group.js';
import { newId } from '../../functions/domain/ids.js';
import { overrideServices } from '../../functions/services.js';
import { putNewCompany } from '../../functions/store/companies.js';
import { requireInvoice } from '../../functions/store/invoices.js';
import { resolveDefinition } from '../../lib/automation.js';
import { buildTemplate } from '../support/cdk.js';
import { installKillSwitch, type DynamoCommand, type KillSwitch } from '../support/kill-switch.js';
import { useFreshTables } from '../support/tables.js';
import { captureMail, mailOf, openInvoice, seedClient, seedCompanyWith } from './tasks/fixtures.js';

/**
 * The run state machine as the stack synthesises it, executed by aws-local-stepfunctions with every Task state mapped
 * to the task Lambda's handler (against DynamoDB Local), and work sources that page, throw once, or always throw.
 */

const NOW = '2030-01-01T00:00:00.000Z';
let workflow: LocalWorkflow;
let definition: ReturnType<typeof resolveDefinition>;
const savedSources = { ...WORK_SOURCES };

async function seedCompany(): Promise<Company> {
  const group = newDefaultGroup(newId('grp'), NOW);
  const company = newCompany({ id: newId('co'), name: 'SFN Co', defaultCurrency: 'USD', timeZone: 'Europe/Paris', defaultGroupId: group.id }, NOW);
  await putNewCompany(company, group);
  return company;
}

/** A source of `total` objects, two per page; `failures` of its calls throw first (a crash, a timeout). */
function source(task: TaskName, total: number, failures = 0): WorkSource & { calls: number } {
  const s = {
    name: `${task}-fake`,
    calls: 0,
    async page(_ctx: unknown, key: string | null) {
      s.calls++;
      if (s.calls <= failures) throw new Error(`${task} source is down`);
      const from = key === null ? 0 : Number(key);
      const to = Math.min(total, from + 2);
      const actions: AutomationAction[] = Array.from({ length: to - from }, (_, i) => ({
        task,
        objectType: 'invoice',
        objectId: `inv_${from + i}`,
        clientId: 'cl_1',
        action: 'voided',
        outcome: 'done',
        details: {},
      }));
      return { examined: actions.length, acted: actions.length, failed: 0, actions, nextKey: to < total ? String(to) : null };
    },
  };
  return s;
}

beforeAll(async () => {
  await useFreshTables();
  const { template } = buildTemplate();
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  definition = resolveDefinition(machine.Properties.DefinitionString);
  workflow = new LocalWorkflow({ definition, handlerOf: () => handleTask, retryIntervalMs: 0 });
  overrideServices({ workflow });
});
afterAll(() => Object.assign(WORK_SOURCES, savedSources));

describe('the synthesised run state machine', () => {
  it('retries a page that throws, records a task that keeps failing and goes on, loops a cursor over pages, and finishes the run failed', async () => {
    const flaky = source('renewals', 3, 1);
    const broken = source('applyCredits', 1, Number.POSITIVE_INFINITY);
    const paged = source('voids', 7);
    const second = source('voids', 1);
    Object.assign(WORK_SOURCES, { renewals: [flaky], applyCredits: [broken], autoDebit: [], notices: [], suspensions: [], voids: [paged, second] });
    const company = await seedCompany();

    const started = await startRun({ companyId: company.id, date: '2030-02-01', tasks: ['renewals', 'applyCredits', 'notices', 'voids'], trigger: 'api' });
    if (started.outcome !== 'started') throw new Error('not started');
    await workflow.idle();
    const { run } = await readRun(company.id, started.run.id);

    // Thrown once, retried: 1 failure + 2 pages.
    expect(flaky.calls).toBe(3);
    // The first try and the three retries of the States.ALL retrier, then the Catch.
    expect(broken.calls).toBe(4);
    // Seven objects two by two, then the task's second source.
    expect(paged.calls).toBe(4);
    expect(second.calls).toBe(1);
    expect(run.status).toBe('failed');
    expect(run.startedAt).not.toBeNull();
    expect(run.finishedAt).not.toBeNull();
    expect(run.tasks).toEqual([
      { name: 'renewals', status: 'succeeded', examined: 3, acted: 3, failed: 0 },
      { name: 'applyCredits', status: 'failed', examined: 0, acted: 0, failed: 0, error: 'applyCredits source is down' },
      { name: 'autoDebit', status: 'skipped', examined: 0, acted: 0, failed: 0 },
      { name: 'notices', status: 'succeeded', examined: 0, acted: 0, failed: 0 },
      { name: 'suspensions', status: 'skipped', examined: 0, acted: 0, failed: 0 },
      { name: 'voids', status: 'succeeded', examined: 8, acted: 8, failed: 0 },
    ]);

    // The lock was released on the way out: the company can run again.
    const again = await startRun({ companyId: company.id, date: '2030-02-01', tasks: ['notices'], trigger: 'api' });
    expect(again.outcome).toBe('started');
    await workflow.idle();
    if (again.outcome === 'started') expect((await readRun(company.id, again.run.id)).run.status).toBe('succeeded');
  });

  it('a run past its share of pages per execution continues in a fresh execution from where it stopped, and finishes once', async () => {
    const voids = source('voids', 9);
    const notices = source('notices', 3);
    Object.assign(WORK_SOURCES, { renewals: [], applyCredits: [], autoDebit: [], notices: [notices], suspensions: [], voids: [voids] });
    const company = await seedCompany();
    const started: string[] = [];
    overrideServices({
      workflow: {
        start: (name, input) => {
          started.push(name);
          return workflow.start(name, input);
        },
      },
    });
    const saved = EXECUTION_LIMITS.pagesPerExecution;
    EXECUTION_LIMITS.pagesPerExecution = 2;
    try {
      const run = await startRun({ companyId: company.id, date: '2030-02-03', tasks: ['notices', 'voids'], trigger: 'api' });
      if (run.outcome !== 'started') throw new Error('not started');
      await workflow.idle();
      const { run: finished } = await readRun(company.id, run.run.id);
      expect(finished.status).toBe('succeeded');
      expect(finished.tasks.filter((t) => t.status !== 'skipped')).toEqual([
        { name: 'notices', status: 'succeeded', examined: 3, acted: 3, failed: 0 },
        { name: 'voids', status: 'succeeded', examined: 9, acted: 9, failed: 0 },
      ]);
      // notices: 2 pages; voids: 5 pages. Every second page hands over to a new execution named for where it resumes.
      expect(notices.calls).toBe(2);
      expect(voids.calls).toBe(5);
      const base = run.run.executionName;
      expect(started).toEqual([base, `${base}-5-1`, `${base}-5-3`]);
      expect(started.every((name) => name.length <= 80)).toBe(true);
    } finally {
      EXECUTION_LIMITS.pagesPerExecution = saved;
      overrideServices({ workflow });
    }
  });

  it('an execution stopped midway (the local stack stopping) leaves a run that finish marks failed, lock released; a late page changes nothing', async () => {
    let release: () => void = () => {};
    let entered = false;
    const hanging: WorkSource = {
      name: 'hanging',
      page: async () => {
        entered = true;
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        return { examined: 1, acted: 1, failed: 0, actions: [], nextKey: null };
      },
    };
    Object.assign(WORK_SOURCES, { renewals: [hanging], applyCredits: [], autoDebit: [], notices: [], suspensions: [], voids: [] });
    const company = await seedCompany();
    const run = await startRun({ companyId: company.id, date: '2030-02-04', tasks: ['renewals'], trigger: 'api' });
    if (run.outcome !== 'started') throw new Error('not started');
    // The page is under way when the stack stops.
    while (!entered) await new Promise((r) => setTimeout(r, 10));

    const stopped = await workflow.abortAll();
    expect(stopped.map((input) => input.runId)).toEqual([run.run.id]);
    await handleTask({ action: 'finish', runId: run.run.id, companyId: company.id });
    release();
    await new Promise((r) => setTimeout(r, 100));
    const { run: finished } = await readRun(company.id, run.run.id);
    expect(finished.status).toBe('failed');
    expect(finished.tasks[0]).toMatchObject({ name: 'renewals', status: 'failed', examined: 0, error: 'The run stopped before this task finished.' });
    expect((await startRun({ companyId: company.id, date: '2030-02-04', tasks: ['voids'], trigger: 'api' })).outcome).toBe('started');
    await workflow.idle();
  });

  it('an execution name is used once: the same scheduled date is not started twice', async () => {
    Object.assign(WORK_SOURCES, { renewals: [], applyCredits: [], autoDebit: [], notices: [], suspensions: [], voids: [] });
    const company = await seedCompany();
    const first = await startRun({ companyId: company.id, date: '2030-02-02', trigger: 'schedule' });
    await workflow.idle();
    expect(first.outcome).toBe('started');
    expect(await workflow.start(`${company.id}-2030-02-02`, {})).toBe('already_started');
  });
});

const N = 4;
const isOnceEffect = (c: DynamoCommand) => c.command === 'TransactWriteItemsCommand' && c.text.includes('"entity":"once"');
const NOTICES = { enabled: true, autoDebitPendingNoticeDays: -3, firstNoticeDays: 1, secondNoticeDays: 7, thirdNoticeDays: 14 } as const;

/**
 * A task Lambda killed mid-page (test/support/kill-switch.ts, issue 14): the Task state's retrier runs the same page
 * again in a fresh invocation, and the run ends as if nothing had happened twice — every invoice voided once, every
 * notice mailed at most once, the run succeeded with exact counts.
 */
describe('a task Lambda killed mid-page in the state machine', () => {
  let kill: KillSwitch;
  let mail: ReturnType<typeof captureMail>;
  let crashing: LocalWorkflow;
  beforeAll(() => {
    kill = installKillSwitch();
    mail = captureMail();
    // Each invocation is a fresh process: one that follows a killed one finds the table again.
    const freshProcess = async (event: unknown) => {
      if (kill.killed) kill.revive();
      return handleTask(event);
    };
    crashing = new LocalWorkflow({ definition, handlerOf: () => freshProcess, retryIntervalMs: 0 });
  });
  afterAll(() => {
    kill.remove();
    mail.restore();
  });

  for (const [task, nth, point] of [
    ['notices', 2, 'before'],
    ['notices', 2, 'after'],
    ['voids', 3, 'before'],
    ['voids', 3, 'after'],
  ] as const) {
    it(`${task}, killed at effect ${nth} (${point}): retried by the state machine, each effect once, the run succeeded`, async () => {
      const company = await seedCompanyWith({ voidInvoicesDaysAfterDue: 10, paymentDueNotices: NOTICES });
      const clients = await Promise.all(
        Array.from({ length: N }, (_, i) => seedClient(company, { email: `sfn${i}-${Math.random().toString(36).slice(2)}@example.com` })),
      );
      // Due on the 5th: on the 20th, 15 days late — the third late notice's day, and past the void's 10 days.
      const invoices = await Promise.all(clients.map((c, i) => openInvoice(company, c, 1000 * (i + 1), '2027-03-05')));
      // The real work sources (other tests here replace them with fakes).
      Object.assign(WORK_SOURCES, savedSources);
      overrideServices({ workflow: crashing });
      const before = kill.kills;
      let started: Awaited<ReturnType<typeof startRun>>;
      try {
        kill.arm(isOnceEffect, { nth, point });
        started = await startRun({ companyId: company.id, date: '2027-03-20', tasks: [task], trigger: 'api' });
        await crashing.idle();
      } finally {
        kill.revive();
        overrideServices({ workflow });
      }
      if (started.outcome !== 'started') throw new Error('not started');
      expect(kill.kills - before, 'the task Lambda was never killed').toBe(1);
      const { run } = await readRun(company.id, started.run.id);
      expect(run.status).toBe('succeeded');
      const counts = run.tasks.find((t) => t.name === task);
      expect(counts).toMatchObject({ status: 'succeeded', failed: 0 });
      const actions = (await readRunActions(company.id, started.run.id, 100)).items;
      expect(new Set(actions.map((a) => a.objectId)).size).toBe(actions.length);
      // Exact, as if nothing had died: the retried page reads the killed invocation's index entries back and counts
      // what it finished (the objects before the nth, and the nth itself when only its answer was lost) as this run's.
      expect(counts).toMatchObject({ examined: N, acted: N });
      expect(actions.map((a) => a.outcome)).toEqual(Array(N).fill('done'));
      expect(actions.filter((a) => a.message === 'done by an earlier attempt of this page')).toHaveLength(point === 'before' ? nth - 1 : nth);
      if (task === 'voids') {
        for (const invoice of invoices) expect((await requireInvoice(company.id, invoice.id)).status).toBe('void');
      } else {
        const logged = await Promise.all(clients.map((c) => mailOf(company, c.id)));
        for (const entries of logged) expect(entries.map((e) => e.template)).toEqual(['late_notice_third']);
        const mailIds = logged.flat().map((e) => e.id);
        const handed = mail.sent.filter((m) => mailIds.includes(m.tags?.mailId ?? ''));
        // Handed to the provider at most once each; the one whose entry was written as the Lambda died stays queued.
        expect(new Set(handed.map((m) => m.tags?.mailId)).size).toBe(handed.length);
        expect(handed).toHaveLength(point === 'after' ? N - 1 : N);
      }
    });
  }
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalWorkflow } from '../../functions/adapters/workflow/local.js';
import { readRun, readRunActions } from '../../functions/automation/read-runs.js';
import { startRun } from '../../functions/automation/start-run.js';
import { handleTask } from '../../functions/automation/task-handler.js';
import { getServices, overrideServices } from '../../functions/services.js';
import { requireInvoice } from '../../functions/store/invoices.js';
import { resolveDefinition } from '../../lib/automation.js';
import { buildTemplate } from '../support/cdk.js';
import { installKillSwitch, type DynamoCommand, type KillSwitch } from '../support/kill-switch.js';
import { useFreshTables } from '../support/tables.js';
import { captureMail, mailOf, openInvoice, seedClient, seedCompanyWith } from './tasks/fixtures.js';

/**
 * A task Lambda killed mid-page inside the synthesised run state machine (aws-local-stepfunctions): the Task state's
 * retrier runs the same page again in a fresh invocation, and the run ends as if nothing had happened twice — every
 * invoice voided once, every notice mailed at most once, the run succeeded.
 */

let kill: KillSwitch;
let workflow: LocalWorkflow;
let mail: ReturnType<typeof captureMail>;
const realWorkflow = getServices().workflow;

beforeAll(async () => {
  await useFreshTables();
  kill = installKillSwitch();
  mail = captureMail();
  const { template } = buildTemplate();
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  const definition = resolveDefinition(machine.Properties.DefinitionString);
  // Each invocation is a fresh process: one that follows a killed one finds the table again.
  const freshProcess = async (event: unknown) => {
    if (kill.killed) kill.revive();
    return handleTask(event);
  };
  workflow = new LocalWorkflow({ definition, handlerOf: () => freshProcess, retryIntervalMs: 0 });
  overrideServices({ workflow });
});
afterAll(() => {
  kill.remove();
  mail.restore();
  overrideServices({ workflow: realWorkflow });
});

const N = 4;
const isOnceEffect = (c: DynamoCommand) => c.command === 'TransactWriteItemsCommand' && c.text.includes('"entity":"once"');
const NOTICES = { enabled: true, autoDebitPendingNoticeDays: -3, firstNoticeDays: 1, secondNoticeDays: 7, thirdNoticeDays: 14 } as const;

describe('a task Lambda killed mid-page in the state machine', () => {
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
      const before = kill.kills;
      kill.arm(isOnceEffect, { nth, point });
      const started = await startRun({ companyId: company.id, date: '2027-03-20', tasks: [task], trigger: 'api' });
      if (started.outcome !== 'started') throw new Error('not started');
      await workflow.idle();
      expect(kill.kills - before, 'the task Lambda was never killed').toBe(1);
      const { run } = await readRun(company.id, started.run.id);
      expect(run.status).toBe('succeeded');
      const counts = run.tasks.find((t) => t.name === task);
      expect(counts).toMatchObject({ status: 'succeeded', failed: 0 });
      const actions = (await readRunActions(company.id, started.run.id, 100)).items;
      expect(new Set(actions.map((a) => a.objectId)).size).toBe(actions.length);
      // What the killed invocation finished is not in the run's record (see docs/reliability.md): the objects before
      // the nth, and the nth itself when its effect was written and only the answer lost.
      expect(counts?.acted).toBe(N - (point === 'before' ? nth - 1 : nth));
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

import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Workflow } from '../../functions/adapters/workflow/port.js';
import { PLANNED_EMBED_LIMIT, readRun, readRuns } from '../../functions/automation/read-runs.js';
import { runTaskPage } from '../../functions/automation/run-task-page.js';
import { startRun } from '../../functions/automation/start-run.js';
import type { AutomationAction, WorkSource } from '../../functions/automation/task.js';
import { WORK_SOURCES } from '../../functions/automation/tasks/index.js';
import { newCompany, type Company } from '../../functions/domain/company.js';
import { newDefaultGroup } from '../../functions/domain/group.js';
import { newId } from '../../functions/domain/ids.js';
import { overrideServices } from '../../functions/services.js';
import { putNewCompany } from '../../functions/store/companies.js';
import { db, tableName } from '../../functions/store/dynamo.js';
import { runSk, runsPk } from '../../functions/store/keys.js';
import { recordDynamoCalls } from '../support/dynamo-calls.js';
import { useFreshTables } from '../support/tables.js';

/** What a dry run planned, as `GET /v1/automation/runs` and `GET /v1/automation/runs/{id}` read it. */

const NOW = '2030-01-01T00:00:00.000Z';
const startsAnything: Workflow = { start: async () => 'started' };

async function seedCompany(): Promise<Company> {
  const group = newDefaultGroup(newId('grp'), NOW);
  const company = newCompany({ id: newId('co'), name: 'Plans Co', defaultCurrency: 'USD', timeZone: 'UTC', defaultGroupId: group.id }, NOW);
  await putNewCompany(company, group);
  return company;
}

/** A source of `total` planned voids (with a skipped one every 10th), `limit` per page; `padding` bytes of details each. */
function plannedVoids(total: number, padding = 0): WorkSource {
  return {
    name: 'planned',
    async page(_ctx, key, limit) {
      const from = key === null ? 0 : Number(key);
      const to = Math.min(total, from + limit);
      const actions = Array.from(
        { length: to - from },
        (_, i): AutomationAction => ({
          task: 'voids',
          objectType: 'invoice',
          objectId: `inv_${from + i}`,
          clientId: 'cl_1',
          action: 'voided',
          outcome: (from + i) % 10 === 9 ? 'skipped' : 'planned',
          message: (from + i) % 10 === 9 ? 'already done' : undefined,
          details: { n: from + i, ...(padding ? { lines: 'x'.repeat(padding) } : {}) },
        }),
      );
      return { examined: actions.length, acted: actions.length, failed: 0, actions, nextKey: to < total ? String(to) : null };
    },
  };
}

async function dryRun(company: Company, date: string, total: number, padding = 0): Promise<string> {
  WORK_SOURCES.voids = [plannedVoids(total, padding)];
  const result = await startRun({ companyId: company.id, date, tasks: ['voids'], dryRun: true, trigger: 'api' });
  if (result.outcome !== 'started') throw new Error('not started');
  let cursor: string | null = null;
  do {
    cursor = (await runTaskPage({ runId: result.run.id, companyId: company.id, date, dryRun: true, task: 'voids', cursor })).cursor;
  } while (cursor);
  await import('../../functions/automation/finish-run.js').then((m) => m.finishRun({ companyId: company.id, runId: result.run.id }));
  return result.run.id;
}

const savedSources = { ...WORK_SOURCES };

beforeAll(async () => {
  await useFreshTables();
  overrideServices({ workflow: startsAnything });
});
afterAll(() => Object.assign(WORK_SOURCES, savedSources));

describe('what a dry run planned', () => {
  it('a run shows its first PLANNED_EMBED_LIMIT planned actions, in the order planned, skipped ones left out; plannedCount counts all', async () => {
    const company = await seedCompany();
    // 150 objects over pages of 50 (PAGE_LIMIT): 135 planned, every 10th skipped.
    const runId = await dryRun(company, '2030-01-10', 150);
    const { run, planned } = await readRun(company.id, runId);
    expect(run.plannedCount).toBe(135);
    const expected = Array.from({ length: 150 }, (_, n) => n)
      .filter((n) => n % 10 !== 9)
      .slice(0, PLANNED_EMBED_LIMIT);
    expect(planned?.map((p) => p.objectId)).toEqual(expected.map((n) => `inv_${n}`));
    expect(planned?.[0]).toEqual({ task: 'voids', objectType: 'invoice', objectId: 'inv_0', clientId: 'cl_1', action: 'voided', details: { n: 0 } });
  });

  it('a list of runs is one query of the runs partition, however many dry runs it shows, with the same planned as each run', async () => {
    const company = await seedCompany();
    const ids = [await dryRun(company, '2030-01-11', 5), await dryRun(company, '2030-01-12', 120), await dryRun(company, '2030-01-13', 0)];
    const calls = recordDynamoCalls();
    const page = await readRuns(company.id, 10);
    calls.stop();
    expect(calls.calls).toHaveLength(1);
    expect(calls.calls[0]).toMatchObject({ command: 'QueryCommand', partitions: [runsPk(company.id)] });
    expect(page.items.map((r) => r.run.id)).toEqual([...ids].reverse());
    for (const item of page.items) expect(item.planned).toEqual((await readRun(company.id, item.run.id)).planned);
    expect(page.items.map((r) => r.planned?.length)).toEqual([0, PLANNED_EMBED_LIMIT, 5]);
  });

  it('a dry run recorded before runs kept their plan still shows it (read from its actions)', async () => {
    const company = await seedCompany();
    const runId = await dryRun(company, '2030-01-14', 30);
    const kept = (await readRun(company.id, runId)).planned;
    await db().send(new UpdateCommand({ TableName: tableName(), Key: { PK: runsPk(company.id), SK: runSk(runId) }, UpdateExpression: 'REMOVE planned' }));
    expect((await readRun(company.id, runId)).planned).toEqual(kept);
    expect((await readRuns(company.id, 10)).items[0].planned).toEqual(kept);
    expect(kept).toHaveLength(27);
  });

  it('a plan too large for the run item is read from its action rows, the same first PLANNED_EMBED_LIMIT', async () => {
    const company = await seedCompany();
    // 120 objects of ~20 KB of details each: the first ten fit the run item, the rest would not.
    const runId = await dryRun(company, '2030-01-16', 120, 20_000);
    const { run, planned } = await readRun(company.id, runId);
    expect(run.plannedCount).toBe(108);
    expect(planned?.map((p) => p.objectId)).toEqual(
      Array.from({ length: 120 }, (_, n) => n)
        .filter((n) => n % 10 !== 9)
        .slice(0, PLANNED_EMBED_LIMIT)
        .map((n) => `inv_${n}`),
    );
    expect((await readRuns(company.id, 10)).items[0].planned).toEqual(planned);
  });

  it('a run that changes things has no planned', async () => {
    const company = await seedCompany();
    WORK_SOURCES.voids = [plannedVoids(0)];
    const result = await startRun({ companyId: company.id, date: '2030-01-15', tasks: ['voids'], trigger: 'api' });
    if (result.outcome !== 'started') throw new Error('not started');
    expect((await readRun(company.id, result.run.id)).planned).toBeUndefined();
    expect((await readRuns(company.id, 10)).items[0].planned).toBeUndefined();
  });
});

import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { finishRun } from '../../functions/automation/finish-run.js';
import { startRun } from '../../functions/automation/start-run.js';
import type { Workflow } from '../../functions/adapters/workflow/port.js';
import { newCompany, type Company } from '../../functions/domain/company.js';
import { ConflictError, UnavailableError } from '../../functions/domain/errors.js';
import { newDefaultGroup } from '../../functions/domain/group.js';
import { newId } from '../../functions/domain/ids.js';
import { faultReport, startFaults, stopFaults } from '../../functions/faults/faults.js';
import { overrideServices } from '../../functions/services.js';
import { putNewCompany } from '../../functions/store/companies.js';
import { useFreshTables } from '../support/tables.js';

/**
 * The finish step saves the run, then releases the company's run lock. When the release fails (DynamoDB unavailable
 * past the SDK's retries) the state machine retries the step; the retry finds the run finished and must still release
 * the lock, or every later run of the company is refused 409 until the lock expires (found by the fault workload,
 * test/faults/workload.e2e.test.ts: thirteen daily runs refused in a row).
 */
const NOW = '2030-01-01T00:00:00.000Z';
const startsOnly: Workflow = { start: async () => 'started' };

async function seedCompany(): Promise<Company> {
  const group = newDefaultGroup(newId('grp'), NOW);
  const company = newCompany({ id: newId('co'), name: 'Lock Co', defaultCurrency: 'USD', timeZone: 'Asia/Tokyo', defaultGroupId: group.id }, NOW);
  await putNewCompany(company, group);
  return company;
}

beforeAll(async () => {
  await useFreshTables();
  overrideServices({ workflow: startsOnly });
});
afterEach(() => {
  stopFaults();
});

describe('finishing a run whose lock release failed', () => {
  it('releases the lock when the step is retried, so the next run can start', async () => {
    const company = await seedCompany();
    const first = await startRun({ companyId: company.id, date: '2030-01-01', trigger: 'api' });
    if (first.outcome !== 'started') throw new Error('the first run did not start');
    // Every attempt of the lock's delete fails, the SDK's retries included.
    startFaults({ rate: 1, seed: 13, kinds: ['server'], targets: ['dynamodb'], operations: ['DeleteItemCommand'] });
    await expect(finishRun({ companyId: company.id, runId: first.run.id })).rejects.toBeInstanceOf(UnavailableError);
    expect(faultReport()?.injected.dynamodb.server).toBeGreaterThanOrEqual(3);
    stopFaults();
    await expect(startRun({ companyId: company.id, date: '2030-01-02', trigger: 'api' })).rejects.toBeInstanceOf(ConflictError);

    // The state machine retries the step.
    expect((await finishRun({ companyId: company.id, runId: first.run.id })).finishedAt).toEqual(expect.any(String));
    expect((await startRun({ companyId: company.id, date: '2030-01-02', trigger: 'api' })).outcome).toBe('started');
  });
});

import { describe, expect, it } from 'vitest';
import { executionNameOf, finishedTasks, newRun } from '../../functions/domain/automation-run.js';
import { newId } from '../../functions/domain/ids.js';

describe('executionNameOf', () => {
  it('names the scheduled run by company and date, an API run by its id too, within the 80 characters Step Functions allows', () => {
    const companyId = newId('co');
    const runId = newId('run');
    expect(executionNameOf(companyId, '2027-01-05')).toBe(`${companyId}-2027-01-05`);
    const api = executionNameOf(companyId, '2027-01-05', runId);
    expect(api).toBe(`${companyId}-2027-01-05-${runId}`);
    expect(api.length).toBeLessThanOrEqual(80);
    expect(() => executionNameOf('co with spaces', '2027-01-05')).toThrow(/not a valid Step Functions name/);
    expect(() => executionNameOf('x'.repeat(70), '2027-01-05')).toThrow();
  });
});

describe('a run', () => {
  const run = newRun({
    id: 'run_1',
    companyId: 'co_1',
    date: '2027-01-05',
    dryRun: false,
    trigger: 'api',
    taskNames: ['a', 'b', 'c'],
    requested: ['a', 'c'],
    executionName: 'x',
    now: '2027-01-05T00:00:00.000Z',
  });

  it('starts queued with the requested tasks pending and the others skipped', () => {
    expect(run.status).toBe('queued');
    expect(run.tasks.map((t) => t.status)).toEqual(['pending', 'skipped', 'pending']);
  });

  it('ends succeeded when every requested task succeeded, failed when one failed or never finished', () => {
    const done = run.tasks.map((t) => (t.status === 'pending' ? { ...t, status: 'succeeded' as const, failed: 3 } : t));
    expect(finishedTasks(done).status).toBe('succeeded');
    const oneFailed = done.map((t) => (t.name === 'a' ? { ...t, status: 'failed' as const, error: 'boom' } : t));
    expect(finishedTasks(oneFailed)).toMatchObject({
      status: 'failed',
      tasks: [{ status: 'failed', error: 'boom' }, { status: 'skipped' }, { status: 'succeeded' }],
    });
    const unfinished = finishedTasks(run.tasks);
    expect(unfinished.status).toBe('failed');
    expect(unfinished.tasks[0]).toMatchObject({ status: 'failed', error: 'The run stopped before this task finished.' });
    expect(unfinished.tasks[1].status).toBe('skipped');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TASK_NAMES } from '../../functions/automation/task.js';
import { runAutomation } from '../support/automation.js';
import { startTestApi, type TestApi } from '../support/stack.js';

/**
 * `/v1/automation/runs` on the local stack: the run goes through the local workflow adapter, which executes the
 * synthesised state machine in-process with the task Lambda's handler. Whatever work sources exist run (this company
 * has nothing due); the test is about the run, its record and its lock.
 */
let api: TestApi;

beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.stack.stop();
});

/** Polls a run until it has finished. */
async function finished(id: string) {
  for (let i = 0; i < 200; i++) {
    const res = await api.staff('GET', `/v1/automation/runs/${id}`);
    expect(res.status).toBe(200);
    if (res.body.finishedAt) return res.body;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`run ${id} did not finish`);
}

describe('automation runs', () => {
  it('POST starts a run (202, queued) that finishes with per-task counts; GET lists it newest first; its actions are a list', async () => {
    const res = await api.staff('POST', '/v1/automation/runs', { date: '2027-01-05' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ date: '2027-01-05', dryRun: false, status: 'queued', trigger: 'api', startedAt: null, finishedAt: null });
    expect(res.body.id).toMatch(/^run_/);
    expect(res.body.planned).toBeUndefined();

    const run = await finished(res.body.id);
    expect(run.status).toBe('succeeded');
    expect(run.tasks.map((t: { name: string }) => t.name)).toEqual([...TASK_NAMES]);
    for (const task of run.tasks) {
      expect(task.status).toBe('succeeded');
      expect(task).toMatchObject({ examined: expect.any(Number), acted: expect.any(Number), failed: 0 });
    }
    expect(run.startedAt).not.toBeNull();

    const later = await api.staff('POST', '/v1/automation/runs', { tasks: ['voids', 'renewals'] });
    expect(later.status).toBe(202);
    const second = await finished(later.body.id);
    expect(second.tasks.filter((t: { status: string }) => t.status !== 'skipped').map((t: { name: string }) => t.name)).toEqual(['renewals', 'voids']);

    const list = await api.staff('GET', '/v1/automation/runs?limit=1');
    expect(list.status).toBe(200);
    expect(list.body.data.map((r: { id: string }) => r.id)).toEqual([later.body.id]);
    const next = await api.staff('GET', `/v1/automation/runs?limit=1&cursor=${encodeURIComponent(list.body.nextCursor)}`);
    expect(next.body.data.map((r: { id: string }) => r.id)).toEqual([res.body.id]);

    const actions = await api.staff('GET', `/v1/automation/runs/${res.body.id}/actions`);
    expect(actions.status).toBe(200);
    expect(actions.body).toEqual({ data: expect.any(Array), nextCursor: null });
  });

  it('of two starts at once exactly one gets 202 and the other 409 run_in_progress', async () => {
    const [a, b] = await Promise.all([api.staff('POST', '/v1/automation/runs', {}), api.staff('POST', '/v1/automation/runs', {})]);
    expect([a.status, b.status].sort()).toEqual([202, 409]);
    const [won, lost] = a.status === 202 ? [a, b] : [b, a];
    expect(lost.body.code).toBe('run_in_progress');
    await finished(won.body.id);
    // Finished: the lock is released and the next start is accepted.
    const again = await api.staff('POST', '/v1/automation/runs', { dryRun: true });
    expect(again.status).toBe(202);
    await finished(again.body.id);
  });

  it('runAutomation (test/support/automation.ts) runs a date and returns the run with its actions', async () => {
    const { run, actions } = await runAutomation(api, '2027-01-06', { tasks: ['voids'] });
    expect(run).toMatchObject({ date: '2027-01-06', status: 'succeeded' });
    expect(actions).toEqual([]);
  });

  it('the same Idempotency-Key answers the first 202 again without starting a second run', async () => {
    const key = { 'Idempotency-Key': `run-${Date.now()}` };
    const first = await api.staff('POST', '/v1/automation/runs', { tasks: ['voids'] }, key);
    expect(first.status).toBe(202);
    const again = await api.staff('POST', '/v1/automation/runs', { tasks: ['voids'] }, key);
    expect(again.status).toBe(202);
    expect(again.body.id).toBe(first.body.id);
    await finished(first.body.id);
    const list = await api.staff('GET', '/v1/automation/runs?limit=100');
    expect(list.body.data.filter((r: { id: string }) => r.id === first.body.id)).toHaveLength(1);
  });

  it('a dry run carries planned (empty here: nothing is due) and plannedCount', async () => {
    const res = await api.staff('POST', '/v1/automation/runs', { dryRun: true, tasks: ['notices'] });
    expect(res.status).toBe(202);
    expect(res.body.planned).toEqual([]);
    const run = await finished(res.body.id);
    expect(run).toMatchObject({ dryRun: true, status: 'succeeded', planned: [], plannedCount: 0 });
  });

  it('refuses unknown tasks, unknown fields and bad dates with 400 naming the field; an unknown run is 404', async () => {
    const unknownTask = await api.staff('POST', '/v1/automation/runs', { tasks: ['renewals', 'laundry'] });
    expect(unknownTask.status).toBe(400);
    expect(unknownTask.body.errors[0].path).toMatch(/^tasks/);
    expect((await api.staff('POST', '/v1/automation/runs', { when: 'now' })).status).toBe(400);
    expect((await api.staff('POST', '/v1/automation/runs', { date: '2027-02-30' })).status).toBe(400);
    expect((await api.staff('POST', '/v1/automation/runs', { tasks: [] })).status).toBe(400);
    expect((await api.staff('GET', '/v1/automation/runs/run_nope')).status).toBe(404);
    expect((await api.staff('GET', '/v1/automation/runs/run_nope/actions')).status).toBe(404);
  });
});

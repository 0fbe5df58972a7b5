import { beforeAll, describe, expect, it } from 'vitest';
import { dispatchRuns, REQUEUE_AFTER_MS } from '../../functions/automation/dispatcher.js';
import { finishRun } from '../../functions/automation/finish-run.js';
import { startRun } from '../../functions/automation/start-run.js';
import type { Company } from '../../functions/domain/company.js';
import { overrideServices } from '../../functions/services.js';
import { getScheduledRunId } from '../../functions/store/automation-runs.js';
import { useTestClock } from '../support/clock.js';
import { useFreshTables } from '../support/tables.js';
import { recordingWorkflow, seedCompanyIn } from '../support/workflow.js';

/** The hourly dispatcher: each company's run for its own local date, started once; busy companies wait an hour. */

const NOW = '2030-01-01T00:00:00.000Z';
const { workflow, names, starts } = recordingWorkflow();
const seedCompany = (timeZone: string) => seedCompanyIn(timeZone, NOW);

let auckland: Company;
let losAngeles: Company;

beforeAll(async () => {
  await useFreshTables();
  overrideServices({ workflow });
  auckland = await seedCompany('Pacific/Auckland');
  losAngeles = await seedCompany('America/Los_Angeles');
});

// The dispatcher acts on every company of the table, so these tests are one sequence on it: not shuffled.
describe('dispatchRuns', { shuffle: false }, () => {
  it("starts each company's run for its own local date, once, and starts again a run whose start was lost", async () => {
    // 11:30 UTC: already the 11th just after midnight in Auckland (UTC+13), still the 10th in Los Angeles (UTC-7).
    const clock = useTestClock('2030-03-10T11:30:00Z');
    try {
      expect(await dispatchRuns()).toEqual({ started: 2, alreadyStarted: 0, busy: 0, restarted: 0, failed: 0 });
      expect(starts.sort()).toEqual([`${auckland.id}-2030-03-11`, `${losAngeles.id}-2030-03-10`].sort());

      clock.advance(60 * 60 * 1000);
      expect(await dispatchRuns()).toEqual({ started: 0, alreadyStarted: 2, busy: 0, restarted: 0, failed: 0 });

      // The dispatcher stopped between recording a run and starting it: a later dispatch starts it by the same name.
      names.clear();
      clock.advance(REQUEUE_AFTER_MS);
      expect(await dispatchRuns()).toEqual({ started: 0, alreadyStarted: 0, busy: 0, restarted: 2, failed: 0 });
      expect(starts.filter((n) => n === `${auckland.id}-2030-03-11`)).toHaveLength(2);
    } finally {
      clock.restore();
    }
  });

  it('a company with a run in progress is tried again the next hour', async () => {
    const clock = useTestClock('2030-03-12T12:00:00Z');
    try {
      for (const company of [auckland, losAngeles]) {
        for (const date of ['2030-03-10', '2030-03-11']) {
          const runId = await getScheduledRunId(company.id, date);
          if (runId) await finishRun({ companyId: company.id, runId });
        }
      }
      const manual = await startRun({ companyId: losAngeles.id, date: '2030-03-01', trigger: 'api' });
      expect(manual.outcome).toBe('started');
      expect(await dispatchRuns()).toEqual({ started: 1, alreadyStarted: 0, busy: 1, restarted: 0, failed: 0 });
      expect(await getScheduledRunId(losAngeles.id, '2030-03-12')).toBeUndefined();

      if (manual.outcome === 'started') await finishRun({ companyId: losAngeles.id, runId: manual.run.id });
      clock.advance(60 * 60 * 1000);
      expect(await dispatchRuns()).toMatchObject({ started: 1, busy: 0, failed: 0 });
      expect(await getScheduledRunId(losAngeles.id, '2030-03-12')).toBeDefined();
    } finally {
      clock.restore();
    }
  });
});

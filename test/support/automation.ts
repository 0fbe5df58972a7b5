import type { TestApi } from './stack.js';

export interface RunOptions {
  tasks?: string[];
  dryRun?: boolean;
  /** Another company's staff token. @default the seeded company's */
  token?: string;
}

/**
 * Runs the automation for a date through `POST /v1/automation/runs` on the test stack (the synthesised state machine,
 * in-process), waits for it to finish and returns the run with every action it recorded, in order. A calendar test
 * calls it once per simulated day.
 */
export async function runAutomation(api: TestApi, date: string, options: RunOptions = {}): Promise<{ run: any; actions: any[] }> {
  const token = options.token ?? api.facts.staffToken;
  const started = await api.call('POST', '/v1/automation/runs', {
    token,
    body: { date, ...(options.tasks ? { tasks: options.tasks } : {}), ...(options.dryRun ? { dryRun: true } : {}) },
  });
  if (started.status !== 202) throw new Error(`automation run for ${date}: ${started.status} ${started.text}`);
  let run = started.body;
  for (let i = 0; !run.finishedAt; i++) {
    if (i > 2000) throw new Error(`automation run ${run.id} for ${date} did not finish`);
    await new Promise((r) => setTimeout(r, 20));
    run = (await api.call('GET', `/v1/automation/runs/${run.id}`, { token })).body;
  }
  const actions: any[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const page = await api.call('GET', `/v1/automation/runs/${run.id}/actions?limit=100${query}`, { token });
    actions.push(...page.body.data);
    cursor = page.body.nextCursor;
  } while (cursor);
  return { run, actions };
}

// `npm run automation -- --date YYYY-MM-DD [--dry-run] [--tasks renewals,notices]`: runs the daily automation of the
// local demo company for a date through the API of a running `npm start`, waits for it and prints what it did (or,
// with --dry-run, what it would do).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface LocalFacts {
  apiUrl: string;
  companyId: string;
  staffToken: string;
  staffUsername: string;
  staffPassword: string;
}

interface RunTask {
  name: string;
  status: string;
  examined: number;
  acted: number;
  failed: number;
  error?: string;
}

interface Run {
  id: string;
  date: string;
  dryRun: boolean;
  status: string;
  tasks: RunTask[];
  planned?: Array<{ task: string; objectType: string; objectId: string; clientId: string; action: string; details: Record<string, unknown> }>;
  plannedCount: number;
  finishedAt: string | null;
}

interface Action {
  task: string;
  objectType: string;
  objectId: string;
  clientId: string;
  action: string;
  outcome: string;
  message: string | null;
  details: Record<string, unknown>;
}

const USAGE = 'Usage: npm run automation -- --date YYYY-MM-DD [--dry-run] [--tasks renewals,applyCredits,autoDebit,notices,suspensions,voids]';

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        date: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        tasks: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    });
  } catch (error) {
    return fail(`${(error as Error).message}\n${USAGE}`);
  }
})();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (values.date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(values.date)) fail(`--date must be YYYY-MM-DD.\n${USAGE}`);

const root = join(fileURLToPath(import.meta.url), '..', '..');
const stateDir = resolve(process.env.BILLOW_STATE_DIR ?? join(root, '.billow'));
const localJson = join(stateDir, 'local.json');
if (!existsSync(localJson)) fail(`${localJson} does not exist: start Billow with npm start first.`);
const facts = JSON.parse(readFileSync(localJson, 'utf8')) as LocalFacts;
let token = facts.staffToken;

async function call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  for (let attempt = 0; ; attempt++) {
    let res: Response;
    try {
      res = await fetch(facts.apiUrl + path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      return fail(`Billow does not answer at ${facts.apiUrl}: is npm start running?`);
    }
    const text = await res.text();
    // The token in local.json expires an hour after npm start: ask for a new one with the staff login once.
    if (res.status === 401 && attempt === 0) {
      const login = await fetch(`${facts.apiUrl}/v1/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ companyId: facts.companyId, username: facts.staffUsername, password: facts.staffPassword }),
      });
      if (login.status !== 200) fail(`The staff login in ${localJson} was refused (${login.status}).`);
      token = ((await login.json()) as { token: string }).token;
      continue;
    }
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }
}

const pad = (value: string | number, width: number) => String(value).padEnd(width);
const padLeft = (value: string | number, width: number) => String(value).padStart(width);

function printRun(run: Run): void {
  console.log(`Run ${run.id} for ${run.date}${run.dryRun ? ' (dry run: nothing was changed)' : ''}: ${run.status}\n`);
  console.log(`  ${pad('task', 13)} ${pad('status', 10)} ${padLeft('examined', 8)} ${padLeft('acted', 6)} ${padLeft('failed', 6)}`);
  for (const task of run.tasks) {
    console.log(
      `  ${pad(task.name, 13)} ${pad(task.status, 10)} ${padLeft(task.examined, 8)} ${padLeft(task.acted, 6)} ${padLeft(task.failed, 6)}${task.error ? `  ${task.error}` : ''}`,
    );
  }
}

const summary = (details: Record<string, unknown>) => {
  const text = JSON.stringify(details);
  return text === '{}' ? '' : `  ${text.length > 400 ? `${text.slice(0, 400)}…` : text}`;
};

async function allActions(runId: string): Promise<Action[]> {
  const actions: Action[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const page = await call<{ data: Action[]; nextCursor: string | null }>('GET', `/v1/automation/runs/${runId}/actions?limit=100${query}`);
    actions.push(...page.body.data);
    cursor = page.body.nextCursor;
  } while (cursor);
  return actions;
}

const request = {
  ...(values.date ? { date: values.date } : {}),
  ...(values.tasks
    ? {
        tasks: values.tasks
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean),
      }
    : {}),
  ...(values['dry-run'] ? { dryRun: true } : {}),
};
const started = await call<Run & { detail?: string; errors?: Array<{ path: string; message: string }> }>('POST', '/v1/automation/runs', request);
if (started.status !== 202) {
  const errors = started.body.errors?.map((e) => `\n  ${e.path}: ${e.message}`).join('');
  fail(`The run was not started (${started.status}):${errors || ` ${started.body.detail ?? ''}`}`);
}

let run = started.body;
while (!run.finishedAt) {
  await new Promise((r) => setTimeout(r, 250));
  run = (await call<Run>('GET', `/v1/automation/runs/${started.body.id}`)).body;
}
printRun(run);

if (run.dryRun) {
  // The body embeds the first planned actions; the actions list holds all of them.
  const planned = run.plannedCount > (run.planned?.length ?? 0) ? (await allActions(run.id)).filter((a) => a.outcome === 'planned') : (run.planned ?? []);
  console.log(`\nPlanned (${run.plannedCount}):`);
  for (const p of planned) console.log(`  ${pad(p.task, 12)} ${pad(p.action, 20)} ${p.objectType} ${p.objectId} (client ${p.clientId})${summary(p.details)}`);
  if (!planned.length) console.log('  nothing is due on this date');
} else {
  const actions = await allActions(run.id);
  console.log(`\nActions (${actions.length}):`);
  for (const a of actions) {
    console.log(
      `  ${pad(a.task, 12)} ${pad(a.action, 20)} ${pad(a.outcome, 8)} ${a.objectType} ${a.objectId} (client ${a.clientId})${a.message ? `  ${a.message}` : ''}${summary(a.details)}`,
    );
  }
  if (!actions.length) console.log('  nothing was due on this date');
}
process.exit(run.status === 'succeeded' ? 0 : 1);

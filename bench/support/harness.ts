import { formatTable, passes, type BenchOutcome, type BudgetResult, type OperationCost } from './report.js';

/**
 * The benchmark modules `npm run bench` runs, in this order (bench/<name>.ts, each exporting `run()`). The cost
 * model comes last: it prices the operations the others measured, so it is given their outcomes.
 */
export const MODULES = ['reads', 'writes', 'overhead', 'hot-keys', 'bundles', 'imports', 'automation', 'cost'] as const;
export type ModuleName = (typeof MODULES)[number];

/** What became of one module in a run. */
export type ModuleRun =
  | { name: string; state: 'ran'; seconds: number; outcome: BenchOutcome }
  | { name: string; state: 'threw'; seconds: number; error: string }
  | { name: string; state: 'missing'; seconds: 0; error: string };

/** What a module's process hands back to the harness (bench/support/child.ts). */
export type ChildReport = { ok: true; outcome: BenchOutcome } | { ok: false; error: string };

/** JSON that keeps infinite figures (a budget with no limit, growth from nothing), which JSON itself turns to null. */
export const toJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v) => (typeof v === 'number' && !Number.isFinite(v) ? { $number: String(v) } : v), 2);

export const fromJson = (text: string): unknown =>
  JSON.parse(text, (_key, v) => (v && typeof v === 'object' && typeof v.$number === 'string' && Object.keys(v).length === 1 ? Number(v.$number) : v));

/** `--only reads,writes` or `--only reads --only writes`; nothing else is accepted. */
export function parseArgs(argv: readonly string[]): { only: ModuleName[] } {
  const only: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = arg === '--only' ? argv[++i] : arg.startsWith('--only=') ? arg.slice('--only='.length) : undefined;
    if (value === undefined) throw new Error(`Unknown argument ${arg}: the only option is --only <${MODULES.join('|')}>[,…].`);
    if (value === '') throw new Error('--only needs a module name.');
    only.push(...value.split(',').map((v) => v.trim()));
  }
  const unknown = only.filter((name) => !(MODULES as readonly string[]).includes(name));
  if (unknown.length) throw new Error(`No benchmark module ${unknown.join(', ')}: choose from ${MODULES.join(', ')}.`);
  return { only: only.length ? MODULES.filter((m) => only.includes(m)) : [...MODULES] };
}

/** The operations measured by the modules that ran, for the cost model. */
export const operationsOf = (runs: readonly ModuleRun[]): OperationCost[] => runs.flatMap((r) => (r.state === 'ran' ? (r.outcome.operations ?? []) : []));

/** Every module ran, none threw and every budget is met. */
export function succeeded(runs: readonly ModuleRun[]): boolean {
  return runs.every((r) => r.state === 'ran' && r.outcome.results.every(passes));
}

const describe = (r: ModuleRun): string => {
  if (r.state === 'missing') return `not run: ${r.error}`;
  if (r.state === 'threw') return `threw: ${r.error}`;
  const failed = r.outcome.results.filter((b) => !passes(b)).length;
  return `${r.outcome.results.length} budget line(s), ${failed ? `${failed} FAIL` : 'all PASS'}`;
};

/** The report of a run: each module's time and state, the table of every budget, then the modules' notes. */
export function formatRun(runs: readonly ModuleRun[], totalSeconds: number): string {
  const width = Math.max(...runs.map((r) => r.name.length));
  const modules = runs.map((r) => `${r.name.padEnd(width)}  ${`${r.seconds.toFixed(1)} s`.padStart(8)}  ${describe(r)}`);
  const results: BudgetResult[] = runs.flatMap((r) => (r.state === 'ran' ? r.outcome.results : []));
  const notes = runs.flatMap((r) => (r.state === 'ran' && r.outcome.notes?.length ? [`\n${r.name}:`, ...r.outcome.notes] : []));
  return [
    `Modules (${totalSeconds.toFixed(0)} s in all):`,
    ...modules,
    '',
    formatTable(results),
    ...notes,
    '',
    `${succeeded(runs) ? 'Every budget met.' : 'NOT every budget met (see FAIL lines and modules not run).'}`,
  ].join('\n');
}

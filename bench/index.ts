/**
 * `npm run bench`: every benchmark of issue 13 in one run, one table of every budget with PASS or FAIL.
 *
 * Starts DynamoDB Local once (in memory) and runs each module of `MODULES` in turn (bench/<name>.ts, its exported
 * `run()`; the cost model's `run(previous)` gets the outcomes before it), each in a process of its own
 * (bench/support/child.ts) so that one module's local stack and adapters never serve another. A module whose file
 * does not exist yet is reported as not run; one that throws is reported with its error, and the others still run.
 * Each module's time is printed. The report is also written to `.billow/bench/results.json` and `results.txt`, so a
 * run can be quoted. The exit code is 1 unless every module ran and every budget is met.
 *
 *   npm run bench [-- --only reads,writes]
 */
import '../bin/local/preamble.js';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBenchDynamo } from './support/dynamo.js';
import { formatRun, fromJson, operationsOf, parseArgs, succeeded, toJson, type ChildReport, type ModuleRun } from './support/harness.js';
import { passes } from './support/report.js';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, '..', '.billow', 'bench');
const work = mkdtempSync(join(tmpdir(), 'billow-bench-run-'));

/** Runs bench/<name>.ts in a child process (the same Node and TypeScript loader as this one) and reads its report. */
async function runModule(name: string, previous: readonly ModuleRun[]): Promise<ModuleRun> {
  if (!existsSync(join(here, `${name}.ts`))) return { name, state: 'missing', seconds: 0, error: `bench/${name}.ts does not exist` };
  console.log(`\n▶ ${name}`);
  const started = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
  const outFile = join(work, `${name}.json`);
  const previousFile = join(work, `before-${name}.json`);
  writeFileSync(previousFile, toJson(previous.flatMap((r) => (r.state === 'ran' ? [r.outcome] : []))));
  const child = spawn(process.execPath, [...process.execArgv, join(here, 'support', 'child.ts'), name, outFile, previousFile], { stdio: 'inherit' });
  const exit = await new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ? null : code)));
  const report = existsSync(outFile)
    ? (fromJson(readFileSync(outFile, 'utf8')) as ChildReport)
    : { ok: false as const, error: `its process ended (${exit === null ? 'killed' : `exit code ${exit}`}) without a report` };
  if (!report.ok) {
    console.error(`✘ ${name} threw after ${seconds().toFixed(1)} s: ${report.error}`);
    return { name, state: 'threw', seconds: seconds(), error: report.error };
  }
  const failed = report.outcome.results.filter((r) => !passes(r)).length;
  console.log(`✔ ${name}: ${seconds().toFixed(1)} s, ${report.outcome.results.length} budget line(s)${failed ? `, ${failed} FAIL` : ''}`);
  return { name, state: 'ran', seconds: seconds(), outcome: report.outcome };
}

const { only } = parseArgs(process.argv.slice(2));
const started = process.hrtime.bigint();
const dynamo = await startBenchDynamo();
const runs: ModuleRun[] = [];
try {
  for (const name of only) runs.push(await runModule(name, runs));
} finally {
  await dynamo.stop();
  rmSync(work, { recursive: true, force: true });
}
const totalSeconds = Number(process.hrtime.bigint() - started) / 1e9;
const report = formatRun(runs, totalSeconds);
console.log(`\n${report}`);

mkdirSync(resultsDir, { recursive: true });
const at = new Date().toISOString();
writeFileSync(join(resultsDir, 'results.txt'), `npm run bench, ${at}\n\n${report}\n`);
writeFileSync(
  join(resultsDir, 'results.json'),
  `${toJson({
    at,
    totalSeconds,
    succeeded: succeeded(runs),
    modules: runs.map((r) =>
      r.state === 'ran'
        ? { name: r.name, state: r.state, seconds: r.seconds, notes: r.outcome.notes ?? [] }
        : { name: r.name, state: r.state, seconds: r.seconds, error: r.error },
    ),
    results: runs.flatMap((r) => (r.state === 'ran' ? r.outcome.results.map((b) => ({ module: r.name, ...b, pass: passes(b) })) : [])),
    operations: operationsOf(runs),
  })}\n`,
);
console.log(`\nWritten to ${join('.billow', 'bench', 'results.json')} and results.txt.`);
process.exit(succeeded(runs) ? 0 : 1);

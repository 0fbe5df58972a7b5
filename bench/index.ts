/**
 * `npm run bench`: every benchmark of issue 13 in one run, one table of every budget with PASS or FAIL.
 *
 * Starts DynamoDB Local once (in memory) and runs each module of `MODULES` in turn (bench/<name>.ts, its exported
 * `run()`; the cost model's `run(previous)` gets the outcomes before it). A module whose file does not exist yet
 * is reported as not run; one that throws is reported with its error, and the others still run. Each module's time
 * is printed. The report is also written to `.billow/bench/results.json` and `results.txt`, so a run can be quoted.
 * The exit code is 1 unless every module ran and every budget is met.
 *
 *   npm run bench [-- --only reads,writes]
 */
import '../bin/local/preamble.js';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startBenchDynamo } from './support/dynamo.js';
import { formatRun, operationsOf, parseArgs, succeeded, type ModuleRun } from './support/harness.js';
import { passes, type BenchOutcome } from './support/report.js';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, '..', '.billow', 'bench');

type Run = (previous?: BenchOutcome[]) => Promise<BenchOutcome>;

async function runModule(name: string, previous: readonly ModuleRun[]): Promise<ModuleRun> {
  const file = join(here, `${name}.ts`);
  if (!existsSync(file)) return { name, state: 'missing', seconds: 0, error: `bench/${name}.ts does not exist` };
  console.log(`\n▶ ${name}`);
  const started = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
  try {
    const module = (await import(pathToFileURL(file).href)) as { run?: Run };
    if (typeof module.run !== 'function') throw new Error(`bench/${name}.ts exports no run()`);
    // Only the cost model takes the others' outcomes; the other modules' own parameters keep their defaults.
    const outcome = name === 'cost' ? await module.run(previous.flatMap((r) => (r.state === 'ran' ? [r.outcome] : []))) : await module.run();
    const ran: ModuleRun = { name, state: 'ran', seconds: seconds(), outcome };
    const failed = outcome.results.filter((r) => !passes(r)).length;
    console.log(`✔ ${name}: ${ran.seconds.toFixed(1)} s, ${outcome.results.length} budget line(s)${failed ? `, ${failed} FAIL` : ''}`);
    return ran;
  } catch (error) {
    const message = (error as Error).stack ?? String(error);
    console.error(`✘ ${name} threw after ${seconds().toFixed(1)} s: ${message}`);
    return { name, state: 'threw', seconds: seconds(), error: (error as Error).message ?? String(error) };
  }
}

const { only } = parseArgs(process.argv.slice(2));
const started = process.hrtime.bigint();
const dynamo = await startBenchDynamo();
const runs: ModuleRun[] = [];
try {
  for (const name of only) runs.push(await runModule(name, runs));
} finally {
  await dynamo.stop();
}
const totalSeconds = Number(process.hrtime.bigint() - started) / 1e9;
const report = formatRun(runs, totalSeconds);
console.log(`\n${report}`);

mkdirSync(resultsDir, { recursive: true });
const at = new Date().toISOString();
writeFileSync(join(resultsDir, 'results.txt'), `npm run bench, ${at}\n\n${report}\n`);
writeFileSync(
  join(resultsDir, 'results.json'),
  `${JSON.stringify(
    {
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
    },
    null,
    2,
  )}\n`,
);
console.log(`\nWritten to ${join('.billow', 'bench', 'results.json')} and results.txt.`);
// A module's stand-ins may leave timers behind; the run is over.
process.exit(succeeded(runs) ? 0 : 1);

/**
 * One benchmark module in a process of its own, for the harness (bench/index.ts): a module may start the local
 * stack, whose adapters (the identity provider's table, the mailer, the store's client) are built once per process,
 * so two modules in one process would see each other's. The module's outcome, or its error, is written as JSON to
 * the file named; DynamoDB Local is the harness's (AWS_ENDPOINT_URL_DYNAMODB).
 *
 *   tsx bench/support/child.ts <module> <outcome.json> [<previous outcomes.json>]
 */
import '../../bin/local/preamble.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fromJson, toJson, type ChildReport } from './harness.js';
import type { BenchOutcome } from './report.js';

const [name, outFile, previousFile] = process.argv.slice(2);
const bench = join(dirname(fileURLToPath(import.meta.url)), '..');
let report: ChildReport;
try {
  const module = (await import(pathToFileURL(join(bench, `${name}.ts`)).href)) as { run?: (previous?: BenchOutcome[]) => Promise<BenchOutcome> };
  if (typeof module.run !== 'function') throw new Error(`bench/${name}.ts exports no run()`);
  // Only the cost model takes the others' outcomes; the other modules' own parameters keep their defaults.
  const outcome = name === 'cost' ? await module.run(previousFile ? (fromJson(readFileSync(previousFile, 'utf8')) as BenchOutcome[]) : []) : await module.run();
  report = { ok: true, outcome };
} catch (error) {
  console.error(error);
  report = { ok: false, error: (error as Error).message ?? String(error) };
}
writeFileSync(outFile, toJson(report));
// A module's stand-ins may leave timers or sockets behind; its work is done.
process.exit(0);

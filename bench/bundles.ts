/**
 * Budget 4, bundles and cold start: is each API function's bundle at most 2× the floor — a bundle of the DynamoDB
 * client, the document client and one Get, built with the same esbuild options — in bytes and in the time a fresh Node
 * takes to import it?
 *
 * The figures are those of the synthesised assets: one `cdk synth` with esbuild bundling (as `cdk deploy` uploads
 * them), every Lambda's `index.mjs` measured where the cloud assembly put it. The largest modules of each bundle come
 * from an esbuild metafile of the same entry rebuilt with the same options (`BillowFunction.bundleOptions()`), and the
 * rebuild must be byte for byte the synthesised `index.mjs`, so the breakdown is that of the deployed bundle. A second
 * reference, the floor with Powertools' logger, metrics and tracer, shows what observability alone costs.
 *
 * Import time: a fresh `node` per import, with Lambda's `--enable-source-maps` (`NODE_OPTIONS` of every function),
 * timed inside the process (`performance.now()` around `import()`, so Node's own start-up is not in it). The floor
 * and every bundle are imported in turn, round after round, and each ratio is the median of its rounds over the
 * floor's median: the machine is shared, so only figures of the same run are compared. The whole module takes about
 * 3 minutes on 2 cores (most of it the synth).
 *
 *   npx tsx bench/bundles.ts [rounds=9]
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { API_AREAS } from '../functions/http/route.js';
import { BillowFunction, BUNDLE_OPTIONS, REPO_ROOT } from '../lib/function.js';
import { packageOf, rebuildBundle } from '../test/support/bundles.js';
import { synthBundled } from '../test/support/cdk.js';
import { type BenchOutcome, type BudgetResult, formatTable } from './support/report.js';

/** Budget 4: bytes and import time of an API function's bundle, each ≤ 2× the floor's. */
const LIMIT = 2;

/** The floor: what any function that reads DynamoDB cannot do without. */
const FLOOR_SOURCE = `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export const handler = async (event) =>
  (await documents.send(new GetCommand({ TableName: process.env.BILLOW_TABLE, Key: { PK: event.pk, SK: event.sk } }))).Item ?? null;
`;

/**
 * The floor with Powertools' logger, metrics and tracer as every Billow function builds them
 * (`functions/observability/`): what observability alone adds to a bundle.
 */
const POWERTOOLS_SOURCE = `${FLOOR_SOURCE}
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

const tracer = new Tracer({ serviceName: 'billow' });
tracer.captureAWSv3Client(documents);
export const observability = [new Logger({ serviceName: 'billow' }), new Metrics({ namespace: 'Billow', serviceName: 'billow' }), tracer];
`;

/**
 * Powertools and the X-Ray SDK its tracer loads, with the X-Ray SDK's own dependencies (semver has a one-function
 * stand-in in the bundles, `functions/bundle-aliases/semver-gte.ts`).
 */
const OBSERVABILITY_PACKAGES =
  /^(@aws-lambda-powertools\/|aws-xray-sdk-core$|semver$|cls-hooked$|async-hook-jl$|emitter-listener$|shimmer$|stack-chain$|atomic-batcher$)/;

/** One bundle measured: a synthesised function's, or a reference bundle. */
export interface MeasuredBundle {
  /** Construct path under the stack (`Api/BillingFunction`), `floor` or `floor + Powertools`. */
  name: string;
  /** The API area whose routes it serves, if it is an API function. */
  area?: string;
  file: string;
  bytes: number;
  /** Bytes in the bundle by module (esbuild metafile). */
  modules: Map<string, number>;
}

/** A reference bundle from source, built with the same options as every function's. */
async function referenceBundle(name: string, source: string, outdir: string): Promise<MeasuredBundle> {
  const dir = join(outdir, name.replace(/\W+/g, '-'));
  const { modules } = await rebuildBundle(
    {
      ...BUNDLE_OPTIONS,
      mainFields: [...BUNDLE_OPTIONS.mainFields],
      stdin: { contents: source, resolveDir: REPO_ROOT, sourcefile: 'floor.mjs', loader: 'js' },
    },
    dir,
    true,
  );
  const file = join(dir, 'index.mjs');
  return { name, file, bytes: statSync(file).size, modules };
}

/**
 * Synthesises the stack with its bundles into `outdir` and returns every Lambda's bundle, with the modules of its
 * rebuild (checked to be the same bytes), and the reference bundles built with the same options.
 */
export async function synthesisedBundles(outdir: string): Promise<{ floor: MeasuredBundle; powertools: MeasuredBundle; functions: MeasuredBundle[] }> {
  const { stack, functions } = synthBundled(join(outdir, 'cdk.out'));
  const prefix = stack.node.path.length + 1;
  const constructs = new Map(
    stack.node
      .findAll()
      .filter((construct): construct is BillowFunction => construct instanceof BillowFunction)
      .map((fn) => [fn.node.path.slice(prefix), fn]),
  );
  const areaOf = new Map(API_AREAS.map((area) => [stack.api.functions[area].node.path.slice(prefix), area]));
  const measured: MeasuredBundle[] = [];
  for (const fn of functions) {
    const construct = constructs.get(fn.path);
    if (!construct) throw new Error(`${fn.path} is not a BillowFunction`);
    const file = join(fn.assetDir, 'index.mjs');
    const { code, modules } = await rebuildBundle(construct.bundleOptions(), join(outdir, 'rebuilt', fn.path.replace(/\//g, '_')));
    if (!code.equals(readFileSync(file))) {
      throw new Error(
        `${fn.path}: rebuilding ${relative(REPO_ROOT, construct.entry)} with its bundleOptions() does not give the synthesised index.mjs (were sources edited during the run, or have lib/function.ts and its bundling props drifted apart?)`,
      );
    }
    measured.push({ name: fn.path, area: areaOf.get(fn.path), file, bytes: statSync(file).size, modules });
  }
  return {
    floor: await referenceBundle('floor', FLOOR_SOURCE, outdir),
    powertools: await referenceBundle('floor + Powertools', POWERTOOLS_SOURCE, outdir),
    functions: measured.sort((a, b) => a.name.localeCompare(b.name)),
  };
}

const IMPORT_SCRIPT = `const started = performance.now();
await import(process.argv[1]);
process.stdout.write(String(performance.now() - started));`;

/** Milliseconds a fresh Node takes to import the bundle, as the Lambda runtime does (source maps on). */
async function importTime(file: string): Promise<number> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--enable-source-maps', '--input-type=module', '-e', IMPORT_SCRIPT, pathToFileURL(file).href],
    {
      env: {
        PATH: process.env.PATH,
        // What Lambda sets that the modules read as they load (Powertools' tracer and logger): a traced function.
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
        AWS_LAMBDA_FUNCTION_NAME: 'billow-bench',
        AWS_REGION: 'eu-west-1',
        BILLOW_RUNTIME: 'aws',
        POWERTOOLS_SERVICE_NAME: 'billow',
      },
    },
  );
  const ms = Number(stdout);
  if (!Number.isFinite(ms)) throw new Error(`Importing ${file} printed ${stdout}`);
  return ms;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;

export async function run(rounds = 9): Promise<BenchOutcome> {
  const outdir = mkdtempSync(join(tmpdir(), 'billow-bench-bundles-'));
  try {
    const started = performance.now();
    const { floor, powertools, functions } = await synthesisedBundles(outdir);
    const synthSeconds = (performance.now() - started) / 1000;
    const all = [floor, powertools, ...functions];
    const times = new Map<string, number[]>(all.map((bundle) => [bundle.name, []]));
    // A first import of each warms the file cache; it is not counted.
    for (const bundle of all) await importTime(bundle.file);
    // Each round starts one bundle further on, so no bundle is always first after a pause (or after the same one).
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < all.length; i++) {
        const bundle = all[(round + i) % all.length];
        times.get(bundle.name)!.push(await importTime(bundle.file));
      }
    }
    const floorMs = median(times.get(floor.name)!);
    const results: BudgetResult[] = [];
    const notes = [
      `bundles: floor ${kb(floor.bytes)}, import ${floorMs.toFixed(0)} ms (median of ${rounds} rounds); ${functions.length} synthesised bundles (synth and rebuilds ${synthSeconds.toFixed(0)} s)`,
    ];
    for (const bundle of [powertools, ...functions]) {
      const ms = median(times.get(bundle.name)!);
      const sizeRatio = bundle.bytes / floor.bytes;
      const timeRatio = ms / floorMs;
      if (bundle.area) {
        results.push(
          {
            budget: 4,
            name: `${bundle.area} bundle size`,
            measured: sizeRatio,
            limit: LIMIT,
            kind: 'max',
            detail: `${kb(bundle.bytes)} / floor ${kb(floor.bytes)}`,
          },
          {
            budget: 4,
            name: `${bundle.area} import time`,
            measured: timeRatio,
            limit: LIMIT,
            kind: 'max',
            detail: `median of ${rounds} fresh imports ${ms.toFixed(0)} ms / floor ${floorMs.toFixed(0)} ms`,
          },
        );
      }
      const modules = [...bundle.modules].sort((a, b) => b[1] - a[1]);
      const packages = new Map<string, number>();
      for (const [module, bytes] of modules) packages.set(packageOf(module), (packages.get(packageOf(module)) ?? 0) + bytes);
      const observability = [...packages].filter(([name]) => OBSERVABILITY_PACKAGES.test(name)).reduce((sum, [, bytes]) => sum + bytes, 0);
      const top = (entries: Array<[string, number]>) =>
        entries
          .sort((a, b) => b[1] - a[1])
          .slice(0, 5)
          .map(([name, bytes]) => `${name} ${kb(bytes)}`)
          .join(', ');
      notes.push(
        `${bundle.name}: ${kb(bundle.bytes)} (${sizeRatio.toFixed(2)}× floor), import ${ms.toFixed(0)} ms (${timeRatio.toFixed(2)}×); Powertools and X-Ray ${kb(observability)}`,
        `  largest modules: ${top(modules)}`,
        `  largest packages: ${top([...packages])}`,
      );
    }
    notes.push(`bundles bench: ${((performance.now() - started) / 1000).toFixed(0)} s in all`);
    return { results, notes };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const outcome = await run(Number(process.argv[2] ?? 9));
  console.log(formatTable(outcome.results));
  for (const note of outcome.notes ?? []) console.log(note);
}

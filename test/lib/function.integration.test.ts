import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_AREAS, type ApiArea } from '../../functions/http/route.js';
import type { Adapter } from '../../functions/services.js';
import { AREA_ACCESS } from '../../lib/api.js';
import { BillowFunction } from '../../lib/function.js';
import { buildStack } from '../support/cdk.js';
import { packageOf, rebuildBundle } from '../support/bundles.js';

/**
 * What each function's bundle holds, module by module (esbuild's metafile of the bundle built with the options the
 * CDK app gives it): the code and SDK clients of the adapters it names and of no other, one zod locale, and the PDF
 * renderer only where documents are rendered. Sizes and times are the benchmark's (bench/bundles.ts), not this test's.
 */

/** The packages only an adapter brings into a bundle (its SDK client, and what its implementation alone uses). */
const ADAPTER_PACKAGES: Record<Adapter, readonly string[]> = {
  identity: ['@aws-sdk/client-cognito-identity-provider'],
  secrets: [],
  gateway: [],
  cipher: ['@aws-sdk/client-kms'],
  mailer: ['@aws-sdk/client-sesv2', 'nodemailer'],
  blobs: ['@aws-sdk/client-s3'],
  workflow: ['@aws-sdk/client-sfn'],
  importFiles: ['@aws-sdk/client-s3'],
  importQueue: ['@aws-sdk/client-sqs'],
};

/** Only the areas that render invoices and statements carry pdfkit. */
const PDF_AREAS: readonly ApiArea[] = ['billing'];

interface Bundle {
  path: string;
  adapters: readonly Adapter[];
  packages: Set<string>;
  modules: Set<string>;
  /** Each bundled module's imports of other bundled modules, with their kind (`import-statement`, `dynamic-import`, …). */
  imports: Map<string, Array<{ path: string; kind: string }>>;
}

let outdir: string;
const bundles = new Map<string, Bundle>();
let stackPath: (fn: BillowFunction) => string;
let apiFunctions: Record<ApiArea, BillowFunction>;

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'billow-bundle-modules-'));
  const { stack } = buildStack();
  stackPath = (fn) => fn.node.path.slice(stack.node.path.length + 1);
  apiFunctions = stack.api.functions;
  const functions = stack.node.findAll().filter((construct): construct is BillowFunction => construct instanceof BillowFunction);
  for (const fn of functions) {
    const { modules, metafile } = await rebuildBundle(fn.bundleOptions(), join(outdir, fn.node.addr));
    bundles.set(stackPath(fn), {
      path: stackPath(fn),
      adapters: fn.adapters,
      packages: new Set([...modules.keys()].map(packageOf)),
      modules: new Set(modules.keys()),
      imports: new Map([...modules.keys()].map((module) => [module, metafile.inputs[module].imports.filter((imported) => modules.has(imported.path))])),
    });
  }
}, 600_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

const apiBundle = (area: ApiArea) => bundles.get(stackPath(apiFunctions[area]))!;

describe('each API bundle', () => {
  for (const area of API_AREAS) {
    it(`${area}: the adapters it uses (AREA_ACCESS) and no other`, () => {
      const bundle = apiBundle(area);
      expect(bundle.adapters).toEqual(AREA_ACCESS[area].uses);
      const needed = new Set(bundle.adapters.flatMap((adapter) => ADAPTER_PACKAGES[adapter]));
      const unused = [...new Set(Object.values(ADAPTER_PACKAGES).flat())].filter((name) => !needed.has(name));
      expect(unused.filter((name) => bundle.packages.has(name))).toEqual([]);
      // The ones it uses are there (so the absent ones are absent for a reason, not because this test reads nothing).
      expect([...needed].filter((name) => !bundle.packages.has(name))).toEqual([]);
    });

    it(`${area}: zod's English messages and no other locale`, () => {
      // `locales/index.js` re-exports them all; only the locale modules themselves hold messages.
      const locales = [...apiBundle(area).modules].filter((module) => /node_modules\/zod\/.*\/locales\/(?!index\.js$)/.test(module));
      expect(locales.map((module) => module.slice(module.lastIndexOf('/') + 1))).toEqual(['en.js']);
    });

    it(`${area}: pdfkit only if it renders documents`, () => {
      expect(apiBundle(area).packages.has('pdfkit')).toBe(PDF_AREAS.includes(area));
    });

    it(`${area}: no CSV decoder (iconv-lite and its code pages are the import worker's)`, () => {
      expect(apiBundle(area).packages.has('iconv-lite')).toBe(false);
    });

    it(`${area}: the DynamoDB client's used commands only (no dynamic import makes esbuild keep all of it)`, () => {
      // A module reached through `import()` is wrapped to run on demand, and esbuild then keeps every statement of it and
      // of what it imports: a store module reached that way brings the whole client, `DynamoDB.js` (every command) first.
      expect([...apiBundle(area).modules].filter((module) => module.endsWith('@aws-sdk/client-dynamodb/dist-es/DynamoDB.js'))).toEqual([]);
    });
  }
});

describe('the mail-composing bundles', () => {
  it('load the HTML sanitiser when they compose a mail, not when they start', () => {
    const mailers = API_AREAS.filter((area) => AREA_ACCESS[area].uses.includes('mailer'));
    expect(mailers.length).toBeGreaterThan(0);
    for (const area of mailers) {
      const bundle = apiBundle(area);
      const importers = [...bundle.imports].flatMap(([module, imports]) =>
        imports.filter((imported) => imported.path === 'functions/domain/email/sanitize.ts').map((imported) => `${module} ${imported.kind}`),
      );
      expect(importers, area).toEqual(['functions/email/notify.ts dynamic-import']);
    }
  });
});

describe('every bundle', () => {
  it('holds the adapters its function names and no other', () => {
    const strays = [...bundles.values()].flatMap((bundle) => {
      const needed = new Set(bundle.adapters.flatMap((adapter) => ADAPTER_PACKAGES[adapter]));
      return [...bundle.packages]
        .filter((name) => Object.values(ADAPTER_PACKAGES).flat().includes(name) && !needed.has(name))
        .map((name) => `${bundle.path}: ${name}`);
    });
    expect(strays).toEqual([]);
  });

  it('renders PDFs without fontkit and its Brotli decoder (standard fonts only)', () => {
    const strays = [...bundles.values()].flatMap((bundle) =>
      ['fontkit', 'brotli'].filter((name) => bundle.packages.has(name)).map((name) => `${bundle.path}: ${name}`),
    );
    expect(strays).toEqual([]);
    expect([...bundles.values()].filter((bundle) => bundle.modules.has('functions/billing/standard-fonts-only.ts')).map((bundle) => bundle.path)).toContain(
      stackPath(apiFunctions.billing),
    );
  });

  it('takes semver’s place with one function, which only the X-Ray SDK’s patcher of SDK v2 calls', () => {
    const importers = [...bundles.values()].flatMap((bundle) =>
      [...bundle.imports].flatMap(([module, imports]) =>
        imports.some((imported) => imported.path === 'functions/bundle-aliases/semver-gte.ts') ? [module.slice(module.lastIndexOf('node_modules/'))] : [],
      ),
    );
    expect(new Set(importers)).toEqual(new Set(['node_modules/aws-xray-sdk-core/dist/lib/patchers/aws_p.js']));
    expect([...bundles.values()].filter((bundle) => bundle.packages.has('semver')).map((bundle) => bundle.path)).toEqual([]);
  });

  it('holds none of the local stand-ins’ own libraries (the state machine runner, the S3 and SES servers)', () => {
    const local = ['aws-local-stepfunctions', 's3rver', 'aws-ses-v2-local'];
    const strays = [...bundles.values()].flatMap((bundle) => local.filter((name) => bundle.packages.has(name)).map((name) => `${bundle.path}: ${name}`));
    expect(strays).toEqual([]);
  });
});

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { REPO_ROOT } from '../../lib/function.js';

/** A bundle rebuilt with esbuild's metafile: its code and the bytes each module contributes to it. */
export interface RebuiltBundle {
  /** `index.mjs` as esbuild wrote it. */
  code: Buffer;
  /** Every module with code in the bundle (`node_modules/zod/v4/locales/en.js`, `functions/billing/pdf.ts`), by bytes. */
  modules: Map<string, number>;
  metafile: Metafile;
}

/**
 * Builds a bundle the way the CDK app does (`BillowFunction.bundleOptions()`, or the same options with other input)
 * into `outdir/index.mjs`, without writing it unless `write`, with its metafile.
 */
export async function rebuildBundle(options: BuildOptions, outdir: string, write = false): Promise<RebuiltBundle> {
  const outfile = join(outdir, 'index.mjs');
  const result = await build({ ...options, outfile, absWorkingDir: REPO_ROOT, metafile: true, write: false, logLevel: 'silent' });
  const code = result.outputFiles.find((file) => file.path === outfile);
  const output = Object.entries(result.metafile.outputs).find(([path]) => path.endsWith('index.mjs'))?.[1];
  if (!code || !output) throw new Error(`esbuild made no ${outfile}`);
  if (write) {
    mkdirSync(outdir, { recursive: true });
    for (const file of result.outputFiles) writeFileSync(file.path, file.contents);
  }
  const modules = new Map(
    Object.entries(output.inputs)
      .filter(([, input]) => input.bytesInOutput > 0)
      .map(([module, input]) => [module, input.bytesInOutput]),
  );
  return { code: Buffer.from(code.contents), modules, metafile: result.metafile };
}

/** The package a module belongs to (`@aws-sdk/client-s3`, `zod`), or `billow` for the project's own files. */
export function packageOf(module: string): string {
  const at = module.lastIndexOf('node_modules/');
  if (at < 0) return 'billow';
  const parts = module.slice(at + 'node_modules/'.length).split('/');
  return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

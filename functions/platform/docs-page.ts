import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

/**
 * The reference page: Redoc renders `/openapi.json` in the browser. Its script is served by this API, never by a CDN,
 * so the page works offline and loads nothing from a third party. Both URLs are relative to `/docs` so the page also
 * works behind a path prefix.
 */
export const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Billow API reference</title>
<style>body { margin: 0; }</style>
</head>
<body>
<noscript>This reference needs JavaScript. The OpenAPI document it renders is at <a href="openapi.json">/openapi.json</a>.</noscript>
<redoc spec-url="openapi.json" expand-responses="200,201" sort-required-props-first="true"></redoc>
<script src="docs/redoc.standalone.js"></script>
</body>
</html>
`;

/**
 * What the page may load: only this API's own script and document. Redoc styles itself with inline styles, runs its
 * search in a worker made from a blob, and shows a logo from its CDN in the sidebar: that one is refused here (Redoc
 * then hides it), so the page never calls a third party.
 */
export const DOCS_PAGE_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Redoc's browser bundle, as the CDK app ships it next to the platform bundle (lib/api.ts): a deployed function has
 * no node_modules.
 */
export const REDOC_FILE = 'redoc.standalone.js';

/** The bundle in the installed `redoc` package. */
export const REDOC_PACKAGE_PATH = 'redoc/bundles/redoc.standalone.js';

async function readRedoc(): Promise<string> {
  // Relative to the running module: in a deployed function that is the bundle, next to which the file lies.
  const shipped = new URL(REDOC_FILE, import.meta.url);
  try {
    return await readFile(shipped, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  // From the sources (the local stack, tests), the installed package is the file.
  let installed: string;
  try {
    installed = createRequire(import.meta.url).resolve(REDOC_PACKAGE_PATH);
  } catch {
    throw new Error(`No ${REDOC_FILE} at ${shipped.pathname} and no ${REDOC_PACKAGE_PATH} installed: the CDK app ships it with the platform bundle.`);
  }
  return readFile(installed, 'utf8');
}

let redoc: Promise<string> | undefined;

/** Redoc's browser bundle, read once per container. */
export function redocBundle(): Promise<string> {
  if (!redoc) {
    const reading = readRedoc();
    redoc = reading;
    // A failed read is not kept: the next request tries again.
    reading.catch(() => {
      if (redoc === reading) redoc = undefined;
    });
  }
  return redoc;
}

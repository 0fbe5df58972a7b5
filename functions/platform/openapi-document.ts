import { readFile } from 'node:fs/promises';
import type { OpenApiDocument } from '../http/openapi.js';

/**
 * The OpenAPI document `/openapi.json` serves and `/docs` renders. It is built from the route table, which imports
 * every area's routes and all they use (pdfkit included), so the platform function does not build it: the CDK app
 * builds it at synth time and ships it next to the bundle under this name (lib/api.ts). The local stack, which runs
 * the route table in-process, hands its own builder to `serveOpenApiDocument` instead.
 */
export const OPENAPI_FILE = 'openapi.json';

type DocumentSource = () => OpenApiDocument | Promise<OpenApiDocument>;

async function shippedDocument(): Promise<OpenApiDocument> {
  // Relative to the running module: in a deployed function that is the bundle, next to which the file lies.
  const location = new URL(OPENAPI_FILE, import.meta.url);
  try {
    return JSON.parse(await readFile(location, 'utf8')) as OpenApiDocument;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new Error(`No OpenAPI document at ${location.pathname}: the CDK app ships one with the platform bundle; elsewhere call serveOpenApiDocument first.`);
  }
}

let source: DocumentSource = shippedDocument;
let document: Promise<OpenApiDocument> | undefined;

/** Serves the document `source` returns (read once, on the first request) instead of the shipped file. */
export function serveOpenApiDocument(from: DocumentSource): void {
  source = from;
  document = undefined;
}

/** The document, read once per container. */
export function openApiDocument(): Promise<OpenApiDocument> {
  if (!document) {
    const reading = (async () => source())();
    document = reading;
    // A failed read is not kept: the next request tries again.
    reading.catch(() => {
      if (document === reading) document = undefined;
    });
  }
  return document;
}

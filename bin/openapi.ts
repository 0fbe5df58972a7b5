/**
 * Writes the OpenAPI document built from the route table (the one the platform function is shipped) to a file:
 * `npm run lint:openapi` lints it with Redocly's recommended-strict rules.
 *
 *   tsx bin/openapi.ts [FILE]   (default: node_modules/.cache/billow/openapi.json)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { buildOpenApi } from '../functions/http/openapi.js';
import { allRoutes } from '../functions/http/route-table.js';

const file = process.argv[2] ?? 'node_modules/.cache/billow/openapi.json';
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, `${JSON.stringify(buildOpenApi(allRoutes), null, 2)}\n`);
console.log(`OpenAPI document written to ${file}`);

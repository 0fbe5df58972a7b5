import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLIENT_SCHEMA_FILE, clientSchemaSource } from '../../bin/generate-client.js';
import type { operations } from '../../client/index.js';

/** The JSON body of an operation's 2xx answers (never when it has none: a 204, a PDF, the HTML page). */
type JsonSuccessBody<Operation> = Operation extends { responses: infer Responses }
  ? {
      [Status in keyof Responses]: Status extends 200 | 201 | 202
        ? Responses[Status] extends { content: { 'application/json': infer Body } }
          ? Body
          : never
        : never;
    }[keyof Responses]
  : never;
/** A body a client could read nothing from without a cast: `unknown`, or an object with no required member. */
type Untyped<Body> = unknown extends Body ? true : Record<string, never> extends Body ? true : false;
/** The operations whose JSON result the generated client does not type; `never` when it types every one. */
type UntypedJsonOperations = { [Id in keyof operations]: true extends Untyped<JsonSuccessBody<operations[Id]>> ? Id : never }[keyof operations];

describe('the typed client (client/)', () => {
  it('has a committed schema identical to what bin/generate-client.ts makes of the current route table', async () => {
    const committed = readFileSync(CLIENT_SCHEMA_FILE, 'utf8');
    const fresh = await clientSchemaSource();
    if (committed !== fresh) {
      throw new Error(
        'client/schema.generated.d.ts is stale: the routes changed since it was generated. Run `npm run client:generate` (tsx bin/generate-client.ts) and commit it.',
      );
    }
    expect(committed).toContain('export interface paths');
  });

  it('types the result of every JSON operation (checked by tsc: an untyped one names itself here)', () => {
    const untyped: [UntypedJsonOperations] extends [never] ? 'none' : UntypedJsonOperations = 'none';
    expect(untyped).toBe('none');
  });
});

import { vi } from 'vitest';
import { db } from '../../functions/store/dynamo.js';

/** The writes of the document client: what a fault between the gateway and the ledger must stop. */
const WRITE_COMMANDS = new Set(['TransactWriteCommand', 'PutCommand', 'UpdateCommand', 'DeleteCommand', 'BatchWriteCommand']);

export interface DynamoFaults {
  /**
   * While on, every write fails as DynamoDB does when it is unavailable; reads still answer. A number fails only that
   * many writes (a blip), then DynamoDB is back.
   */
  failWrites(on: boolean | number): void;
  /** How many writes were refused so far. */
  readonly injected: number;
  /** Puts the client's own `send` back. */
  restore(): void;
}

/** What the SDK throws when DynamoDB cannot serve a request (a 503 server fault). */
export function unavailableError(): Error {
  return Object.assign(new Error('Service Unavailable (injected by test/support/faults.ts)'), {
    name: 'ServiceUnavailable',
    $fault: 'server',
    $metadata: { httpStatusCode: 503 },
  });
}

/**
 * A switchable fault in the shared DynamoDB document client of this process (`db()` in functions/store/dynamo.ts):
 * its `send` is wrapped, and passes everything through until `failWrites(true)`.
 */
export function injectDynamoFaults(): DynamoFaults {
  const client = db();
  const send = client.send.bind(client) as (...args: unknown[]) => Promise<unknown>;
  let failing: boolean | number = false;
  let injected = 0;
  const spy = vi.spyOn(client, 'send').mockImplementation(((...args: unknown[]) => {
    const command = args[0] as { constructor: { name: string } };
    if (failing !== false && failing !== 0 && WRITE_COMMANDS.has(command.constructor.name)) {
      injected++;
      if (typeof failing === 'number') failing--;
      return Promise.reject(unavailableError());
    }
    return send(...args);
  }) as typeof client.send);
  return {
    failWrites: (on) => {
      failing = on;
    },
    get injected() {
      return injected;
    },
    restore: () => spy.mockRestore(),
  };
}

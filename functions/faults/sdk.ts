import { drawFault, INJECTED, type FaultKind, type FaultLayer, type FaultTarget } from './faults.js';

/** The name each service gives its throttling error (what the SDK and Billow's translators recognise). */
const THROTTLING: Record<FaultTarget, { name: string; status: number }> = {
  dynamodb: { name: 'ProvisionedThroughputExceededException', status: 400 },
  s3: { name: 'SlowDown', status: 503 },
  ses: { name: 'TooManyRequestsException', status: 429 },
  sfn: { name: 'ThrottlingException', status: 400 },
  sqs: { name: 'ThrottlingException', status: 400 },
  gateway: { name: 'ThrottlingException', status: 429 },
  mailer: { name: 'TooManyRequestsException', status: 429 },
};

/** The error the SDK raises for `kind` (never for `lost`'s call itself, which went through). */
export function sdkError(target: FaultTarget, kind: FaultKind): Error {
  switch (kind) {
    case 'throttle': {
      const { name, status } = THROTTLING[target];
      return Object.assign(new Error(`Rate exceeded (${INJECTED})`), {
        name,
        $fault: 'client',
        $retryable: { throttling: true },
        $metadata: { httpStatusCode: status },
      });
    }
    case 'server':
      return Object.assign(new Error(`We encountered an internal error. Please try again. (${INJECTED})`), {
        name: 'InternalServerError',
        $fault: 'server',
        $metadata: { httpStatusCode: 500 },
      });
    case 'timeout':
      return Object.assign(new Error(`Connection timed out before the request was sent (${INJECTED})`), {
        name: 'TimeoutError',
        code: 'ETIMEDOUT',
        $metadata: {},
      });
    case 'lost':
      return Object.assign(new Error(`socket hang up: the answer was lost after the service acted (${INJECTED})`), {
        name: 'Error',
        code: 'ECONNRESET',
        $metadata: {},
      });
  }
}

export const INJECT_MIDDLEWARE_NAME = 'billowInjectedFaults';

type Handler = (args: unknown) => Promise<unknown>;
type Middleware = (next: Handler, context: { commandName?: string }) => Handler;

/** What the layer needs of an SDK client: its middleware stack (each client types it by its own service). */
interface WithStack {
  middlewareStack: {
    add(middleware: never, options: { step: 'finalizeRequest'; priority: 'low'; name: string }): void;
    add(middleware: never, options: { step: 'initialize'; priority: 'low'; name: string }): void;
  };
}

/** A middleware failing what `drawFault` decides for its layer. */
function faultMiddleware(target: FaultTarget, layer: FaultLayer): Middleware {
  return (next, context) => async (args) => {
    const kind = drawFault(target, context.commandName ?? 'unknown', layer);
    if (kind === undefined) return next(args);
    if (kind === 'lost') await next(args);
    throw sdkError(target, kind);
  };
}

/**
 * Adds the fault layer to an SDK client, where a network or service fault is met: inside the SDK's retries (each
 * attempt draws; the SDK retries what it retries — throttling, 5xx, timeouts, resets — with its own backoff,
 * re-sending a `lost` call that in fact happened), and, for `callShare` of the faults, around them (the call fails
 * as if every attempt had). Inert while the layer is off (`faults.ts`).
 */
export function injectFaultsInto<C extends WithStack>(client: C, target: FaultTarget): C {
  // In the finalizeRequest step after the retry middleware (which is `high`): each attempt meets its own draw.
  client.middlewareStack.add(faultMiddleware(target, 'attempt') as never, { step: 'finalizeRequest', priority: 'low', name: INJECT_MIDDLEWARE_NAME });
  // In the initialize step, inside Billow's error translation (dynamo-faults.ts, `high`), outside the retries.
  client.middlewareStack.add(faultMiddleware(target, 'call') as never, { step: 'initialize', priority: 'low', name: `${INJECT_MIDDLEWARE_NAME}Call` });
  return client;
}

import { AsyncLocalStorage } from 'node:async_hooks';
import { Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes } from '@aws-lambda-powertools/logger/types';

/** The keys of the request being served where a log line is written (its `requestId` and `routeKey`). */
const requestKeys = new AsyncLocalStorage<LogAttributes>();

/**
 * Adds the keys of the request in progress to every line. They follow the request through its awaits rather than
 * sitting on the logger (`appendKeys`), because one process may serve many requests at once: the local stack, the
 * tests, and Lambda's own concurrent invocations would otherwise log a line under another request's id.
 */
class RequestScopedLogger extends Logger {
  protected override processLogItem(...[level, input, extraInput]: Parameters<Logger['processLogItem']>): void {
    const keys = requestKeys.getStore();
    super.processLogItem(level, input, keys ? ([...extraInput, keys] as typeof extraInput) : extraInput);
  }
}

/** One structured JSON logger per container. */
export const logger = new RequestScopedLogger({ serviceName: 'billow' });

/** Runs `work` with `keys` on every line it logs, however many other requests are logging at the same time. */
export function withRequestLogKeys<T>(keys: LogAttributes, work: () => T): T {
  return requestKeys.run(keys, work);
}

import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { logger } from '../../functions/observability/logger.js';
import { count, METRIC, metrics } from '../../functions/observability/metrics.js';
import { tracedHandler } from '../../functions/observability/tracer.js';

/** The entries outside the API (schedules, queues, SNS, Cognito) get the logger, metrics and tracer of the API areas. */
const context = {
  awsRequestId: 'req-1',
  functionName: 'billow-test',
  invokedFunctionArn: 'arn',
  memoryLimitInMB: '128',
  functionVersion: '$LATEST',
} as unknown as Context;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('tracedHandler', () => {
  it('logs with the invocation`s context and flushes the metrics it counted', async () => {
    const addContext = vi.spyOn(logger, 'addContext');
    const publish = vi.spyOn(metrics, 'publishStoredMetrics');
    const handler = tracedHandler(async (event: { n: number }) => {
      count(METRIC.refunds);
      return event.n + 1;
    });
    expect(await handler({ n: 1 }, context)).toBe(2);
    expect(addContext).toHaveBeenCalledWith(expect.objectContaining({ awsRequestId: 'req-1', functionName: 'billow-test' }));
    expect(publish).toHaveBeenCalledTimes(1);
    expect(metrics.hasStoredMetrics()).toBe(false);
  });

  it('flushes the metrics of an invocation that throws, and throws its error', async () => {
    const publish = vi.spyOn(metrics, 'publishStoredMetrics');
    const handler = tracedHandler(async (_event: unknown) => {
      count(METRIC.gatewayFailures);
      throw new Error('boom');
    });
    await expect(handler({}, context)).rejects.toThrow('boom');
    expect(publish).toHaveBeenCalledTimes(1);
  });

  it('does not flush when nothing was counted (Powertools warns on an empty flush), and runs without a context', async () => {
    const publish = vi.spyOn(metrics, 'publishStoredMetrics');
    expect(await tracedHandler(async () => 'ok')(undefined)).toBe('ok');
    expect(publish).not.toHaveBeenCalled();
  });
});

import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context } from 'aws-lambda';
import { logger } from './logger.js';
import { metrics } from './metrics.js';
import { createDispatcher, type ApiEvent } from './pipeline.js';
import type { AnyRoute } from './route.js';

/** The Lambda entry of one API area: the shared pipeline over that area's routes. */
export function createApiHandler(routes: readonly AnyRoute[]) {
  const dispatch = createDispatcher(routes);
  return middy<ApiEvent, unknown, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .handler((event) => dispatch(event));
}

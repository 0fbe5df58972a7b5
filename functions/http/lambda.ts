import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import { logger } from '../observability/logger.js';
import { publishMetrics } from '../observability/metrics.js';
import { traceInvocation } from '../observability/tracer.js';
import { createDispatcher, type ApiEvent } from './pipeline.js';
import type { AnyRoute } from './route.js';

/** The Lambda entry of one API area: the shared pipeline over that area's routes. */
export function createApiHandler(routes: readonly AnyRoute[]) {
  const dispatch = createDispatcher(routes);
  return middy<ApiEvent, unknown, Error, Context>()
    .use(traceInvocation())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishMetrics())
    .handler((event, context) => dispatch(event, context));
}

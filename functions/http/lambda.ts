import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import { logger } from './logger.js';
import { createDispatcher, type ApiEvent } from './pipeline.js';
import type { AnyRoute } from './route.js';

/** The Lambda entry of one API area: the shared pipeline over that area's routes. */
export function createApiHandler(routes: readonly AnyRoute[]) {
  const dispatch = createDispatcher(routes);
  return middy<ApiEvent, unknown, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler((event) => dispatch(event));
}

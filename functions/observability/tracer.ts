import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger } from './logger.js';
import { publishMetrics } from './metrics.js';

/**
 * One X-Ray tracer per container. Every AWS SDK client is wrapped with `tracer.captureAWSv3Client` where it is built,
 * so each call to DynamoDB, S3, SES, KMS, Cognito or Secrets Manager is its own subsegment of the invocation.
 * Powertools turns tracing off outside Lambda (no `AWS_EXECUTION_ENV`); the local stack and the tests also set
 * `POWERTOOLS_TRACE_ENABLED=false`.
 */
export const tracer = new Tracer({ serviceName: 'billow' });

/**
 * The middleware that opens the invocation's subsegment (cold start and service annotations, the error if any).
 * Responses are not recorded: they hold client data and whole PDFs.
 */
export function traceInvocation() {
  return captureLambdaHandler(tracer, { captureResponse: false });
}

/**
 * A Lambda entry outside the API (SES events, Cognito triggers, the automation dispatcher and task, the reconciler,
 * the import worker), observed like the API areas (`functions/http/lambda.ts`): traced, logging with the
 * invocation's context (request id, function, cold start), and flushing the business metrics it counted when it
 * ends, failed or not. The context may be left out: tests and the local stack call these entries with the event alone.
 */
export function tracedHandler<TEvent, TResult>(handle: (event: TEvent) => Promise<TResult>): (event: TEvent, context?: Context) => Promise<TResult> {
  const traced = middy<TEvent, TResult, Error, Context>(handle)
    .use(traceInvocation())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishMetrics());
  // Without a context middy passes an empty one on, which is what it gets here.
  return (event, context) => traced(event, context ?? ({} as Context));
}

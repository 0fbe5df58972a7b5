import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import * as z from 'zod';
import { principalFromClaims } from '../adapters/identity/claims.js';
import { clientLoginStatus } from '../store/principals.js';
import { NotAuthenticatedError, ForbiddenError, NotFoundError, TooLargeError, ValidationError } from '../domain/errors.js';
import { claimIdempotencyKey, requestFingerprint } from './idempotency.js';
import { logger, withRequestLogKeys } from '../observability/logger.js';
import { count, METRIC } from '../observability/metrics.js';
import { problemResponse, UnsupportedMediaTypeError, validationErrorFromZod } from './problem.js';
import { routeKey, type AnyRoute, type HttpResponse, type Principal } from './route.js';

export const MAX_BODY_BYTES = 1024 * 1024;
const EMPTY_BODY = z.strictObject({}).optional();

export type ApiEvent = APIGatewayProxyEventV2 & {
  requestContext: APIGatewayProxyEventV2['requestContext'] & { authorizer?: { jwt?: { claims?: Record<string, unknown> } } };
};

/** What the pipeline reads of the Lambda context: the time left before the invocation is stopped. */
export type Invocation = Pick<Context, 'getRemainingTimeInMillis'>;

/** Builds the dispatcher for a set of routes: the whole request pipeline every route shares. */
export function createDispatcher(routes: readonly AnyRoute[]) {
  const byKey = new Map(routes.map((r) => [routeKey(r), r]));
  return async (event: ApiEvent, invocation: Invocation): Promise<APIGatewayProxyStructuredResultV2> => {
    const requestId = event.requestContext?.requestId ?? 'unknown';
    return withRequestLogKeys({ requestId, routeKey: event.routeKey }, () => dispatch(event, invocation, requestId));
  };

  async function dispatch(event: ApiEvent, invocation: Invocation, requestId: string): Promise<APIGatewayProxyStructuredResultV2> {
    const started = Date.now();
    let response: HttpResponse;
    try {
      const found = byKey.get(event.routeKey);
      // API Gateway sends unmatched requests to `$default`: name what was asked for.
      if (!found) throw new NotFoundError(`No route ${event.requestContext?.http?.method ?? ''} ${event.rawPath ?? event.routeKey}.`);
      response = await handle(found, event, requestId, invocation);
    } catch (error) {
      response = problemResponse(error, requestId);
      if (response.status >= 500) {
        logger.error('request failed', { error: error as Error });
        count(METRIC.serverErrors);
      }
    }
    logger.info('request', { status: response.status, ms: Date.now() - started });
    return toResult(response, requestId);
  }
}

function lowerCaseHeaders(headers: Record<string, string | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (v !== undefined) out[k.toLowerCase()] = v;
  return out;
}

async function authorise(route: AnyRoute, event: ApiEvent): Promise<Principal | null> {
  if (route.access === 'public') return null;
  const principal = principalFromClaims(event.requestContext.authorizer?.jwt?.claims);
  if (!principal) throw new NotAuthenticatedError();
  // The role is checked before any id is looked at.
  if (!route.access.includes(principal.role)) throw new ForbiddenError(`A ${principal.role} token may not use this route.`);
  if (principal.role === 'client') {
    const { companyId, clientId } = principal;
    // principalFromClaims admits a client token only with both ids; one without them is not a usable token.
    if (!companyId || !clientId) throw new NotAuthenticatedError();
    const status = await clientLoginStatus(companyId, clientId);
    if (status === undefined) throw new NotAuthenticatedError('This login no longer exists.');
    if (status !== 'active') throw new NotAuthenticatedError('This account is not active.');
  }
  return principal;
}

function isDotSegment(value: unknown): boolean {
  return typeof value === 'string' && /^(?:\.|%2e){1,2}$/i.test(value);
}

/** `application/json` (any parameters) or a `+json` type such as `application/merge-patch+json`. */
function isJsonMediaType(contentType: string | undefined): boolean {
  const mediaType = (contentType ?? '').split(';')[0].trim().toLowerCase();
  return mediaType === 'application/json' || /^application\/[^\s/]+\+json$/.test(mediaType);
}

function parseBody(route: AnyRoute, event: ApiEvent, headers: Record<string, string>): unknown {
  const raw = event.body === undefined || event.body === null ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (Buffer.byteLength(raw, 'utf8') > MAX_BODY_BYTES) throw new TooLargeError('The request body is over 1 MiB.');
  let parsed: unknown;
  if (raw.length > 0 && !isJsonMediaType(headers['content-type'])) {
    throw new UnsupportedMediaTypeError(`A request body must be sent as application/json, not ${headers['content-type'] ?? 'without a Content-Type'}.`);
  }
  if (raw.trim() !== '') {
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw ValidationError.field('(body)', 'The body is not valid JSON.');
    }
  }
  const schema = route.body ?? EMPTY_BODY;
  if (parsed === undefined && route.body) {
    // A route with a body schema gets `{}` for an empty body, so the schema names each missing field.
    parsed = {};
  }
  const result = schema.safeParse(parsed);
  if (!result.success) throw validationErrorFromZod(result.error);
  return result.data;
}

function parseQuery(route: AnyRoute, event: ApiEvent): unknown {
  if (!route.query) return {};
  const result = route.query.safeParse(event.queryStringParameters ?? {});
  if (!result.success) throw validationErrorFromZod(result.error);
  return result.data;
}

async function handle(route: AnyRoute, event: ApiEvent, requestId: string, invocation: Invocation): Promise<HttpResponse> {
  const principal = await authorise(route, event);
  const headers = lowerCaseHeaders(event.headers);
  const body = parseBody(route, event, headers);
  const query = parseQuery(route, event);
  // Path ids are opaque: one that is not even of a plausible shape is simply not found.
  const parsedParams = route.params ? route.params.safeParse(event.pathParameters ?? {}) : { success: true as const, data: event.pathParameters ?? {} };
  if (!parsedParams.success) throw new NotFoundError('No such object.');
  const params = parsedParams.data as Record<string, string>;
  // A front door that resolved `..` would have routed elsewhere; one that did not hands it over as an id. Either way
  // a dot segment names no object, so it never reaches a route that might act on the parent.
  if (Object.values(params).some(isDotSegment)) throw new NotFoundError('No such object.');
  // A client token reaches only its own client's routes; any other client is "not found", never "forbidden".
  if (principal?.role === 'client' && route.path.startsWith('/v1/clients/{id}') && params.id !== principal.clientId) {
    throw new NotFoundError('No such client.');
  }
  const path = event.rawPath ?? route.path;
  const sourceIp = event.requestContext?.http?.sourceIp ?? null;
  const context = { body, query, params, principal, requestId, headers, logger, path, sourceIp };

  const idempotencyKey = headers['idempotency-key'];
  // Public routes (token, set-password) accept the header but keep no record: a stored response there would be a
  // bearer token at rest, and anonymous callers would share one key space.
  if (route.method !== 'POST' || idempotencyKey === undefined || route.access === 'public') return route.handle(context);

  // A client token's keys are its own: a replay must never hand one client another client's stored response
  // (the ownership check is in the handler, which a replay skips).
  const scope = principal?.role === 'client' ? `${principal.companyId}#CL#${principal.clientId}` : (principal?.companyId ?? principal?.role ?? 'operator');
  const fingerprint = await requestFingerprint(route.method, path, body);
  const claim = await claimIdempotencyKey(scope, idempotencyKey, fingerprint, invocation.getRemainingTimeInMillis());
  if (claim.kind === 'replay') return claim.response;
  let response: HttpResponse;
  try {
    response = await route.handle(context);
  } catch (error) {
    response = problemResponse(error, requestId);
  }
  // Neither a fault nor a throttle is an answer worth replaying: a retry with the same key must act again. Except a
  // 5xx the route marks final (a payment left pending: acting again would charge again).
  try {
    if ((response.status >= 500 && !response.final) || response.status === 429) await claim.release();
    else await claim.complete(response);
  } catch (error) {
    // The answer stands: what the route did is done whatever the record says (a 201 turned 503 here would have the
    // caller retry work that happened). The key stays held until its lock expires (found by the fault workload).
    logger.error('The idempotency record could not be updated; the key stays held until its lock expires', { error: error as Error });
  }
  return response;
}

function toResult(response: HttpResponse, requestId: string): APIGatewayProxyStructuredResultV2 {
  const headers: Record<string, string> = { 'x-request-id': requestId, ...response.headers };
  if (response.body === undefined) return { statusCode: response.status, headers };
  if (Buffer.isBuffer(response.body)) {
    return { statusCode: response.status, headers, body: response.body.toString('base64'), isBase64Encoded: true };
  }
  if (typeof response.body === 'string' && headers['content-type']) {
    return { statusCode: response.status, headers, body: response.body };
  }
  headers['content-type'] ??= 'application/json; charset=utf-8';
  return { statusCode: response.status, headers, body: JSON.stringify(response.body) };
}

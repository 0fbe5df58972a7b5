import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { verifyLocalToken } from '../../functions/adapters/identity/local.js';
import { NotAuthenticatedError, NotFoundError, TooLargeError } from '../../functions/domain/errors.js';
import { MAX_BODY_BYTES, type ApiEvent } from '../../functions/http/pipeline.js';
import { MethodNotAllowedError, problem, problemResponse } from '../../functions/http/problem.js';
import { API_FUNCTION_TIMEOUT_MS, routeKey, type AnyRoute, type ApiArea } from '../../functions/http/route.js';

type AreaHandler = (event: ApiEvent, context: Context) => Promise<unknown>;

interface CompiledRoute {
  route: AnyRoute;
  pattern: RegExp;
  names: string[];
  paramCount: number;
}

/** The routes by the number of `/` in their path: a parameter matches one segment, so only those can match a path. */
function compile(routes: readonly AnyRoute[]): Map<number, CompiledRoute[]> {
  const bySlashes = new Map<number, CompiledRoute[]>();
  const compiled = routes
    .map((route) => {
      const names: string[] = [];
      const source = route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{(\w+)\\?\}|\{(\w+)\}/g, (_m, a: string, b: string) => {
        names.push(a ?? b);
        return '([^/]+)';
      });
      return { route, pattern: new RegExp(`^${source}$`), names, paramCount: names.length };
    })
    // API Gateway prefers the most specific route: fewer parameters first.
    .sort((a, b) => a.paramCount - b.paramCount);
  for (const c of compiled) {
    const slashes = slashCount(c.route.path);
    bySlashes.set(slashes, [...(bySlashes.get(slashes) ?? []), c]);
  }
  return bySlashes;
}

function slashCount(path: string): number {
  let n = 0;
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) n++;
  return n;
}

/** Built as the invocation starts, so its remaining time runs down as a deployed function's does. */
function fakeContext(area: string, requestId: string): Context {
  const deadline = Date.now() + API_FUNCTION_TIMEOUT_MS;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `billow-${area}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:billow-${area}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/billow-${area}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** A broken percent-escape (`%ff`) is passed on as is (it then names nothing → 404), not a URIError (→ 500). */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The path of the request target exactly as sent (origin form), or of an absolute-form target. */
function rawPathOf(target: string, parsed: URL): string {
  if (!target.startsWith('/')) return parsed.pathname;
  const end = target.search(/[?#]/);
  return end === -1 ? target : target.slice(0, end);
}

const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': 'authorization,content-type,idempotency-key,if-match',
  'access-control-allow-methods': 'GET,POST,PUT,PATCH,DELETE,OPTIONS',
  'access-control-expose-headers': 'x-request-id,retry-after,idempotent-replayed',
};

/**
 * The local stand-in for API Gateway's HTTP API: matches the request against the same route table the CDK
 * stack is built from, verifies the bearer token as the JWT authorizer would, and invokes the area's Lambda
 * handler with an API Gateway v2 event.
 */
export function createLocalApiServer(routes: readonly AnyRoute[], loadHandler: (area: ApiArea) => Promise<AreaHandler>): http.Server {
  const compiled = compile(routes);
  const server = http.createServer(async (req, res) => {
    const requestId = randomUUID();
    const send = (result: APIGatewayProxyStructuredResultV2) => {
      const headers: Record<string, string> = { ...CORS_HEADERS, 'x-request-id': requestId };
      for (const [k, v] of Object.entries(result.headers ?? {})) headers[k.toLowerCase()] = String(v);
      const body = result.body === undefined ? undefined : result.isBase64Encoded ? Buffer.from(result.body, 'base64') : Buffer.from(result.body);
      res.writeHead(result.statusCode ?? 200, headers);
      res.end(body);
    };
    const sendProblem = (error: unknown) => {
      const problem = problemResponse(error, requestId);
      send({ statusCode: problem.status, headers: problem.headers, body: JSON.stringify(problem.body) });
    };
    try {
      const url = new URL(req.url ?? '/', 'http://local');
      const method = (req.method ?? 'GET').toUpperCase();
      if (method === 'OPTIONS') return send({ statusCode: 204 });

      const chunks: Buffer[] = [];
      let size = 0;
      // A request with neither header has no body (RFC 9112 §6.3): most requests (GET, DELETE) skip the read.
      const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
      for await (const chunk of hasBody ? req : []) {
        size += (chunk as Buffer).length;
        if (size > MAX_BODY_BYTES) throw new TooLargeError('The request body is over 1 MiB.');
        chunks.push(chunk as Buffer);
      }
      const rawBody = Buffer.concat(chunks);

      // Routed on the path as sent: URL's pathname would resolve dot segments (`%2e%2e` too) and send
      // `/v1/clients/{id}/contacts/..` to DELETE `/v1/clients/{id}`. API Gateway routes the path as received.
      const sentPath = rawPathOf(req.url ?? '/', url);
      const path = sentPath.length > 1 ? sentPath.replace(/\/+$/, '') : sentPath;
      let pathMatched = false;
      let match: CompiledRoute | undefined;
      let values: string[] = [];
      for (const c of compiled.get(slashCount(path)) ?? []) {
        const found = c.pattern.exec(path);
        if (!found) continue;
        pathMatched = true;
        if (c.route.method !== method) continue;
        match = c;
        values = found.slice(1);
        break;
      }
      if (!match) {
        if (pathMatched) throw new MethodNotAllowedError(`${method} is not allowed on ${path}.`);
        throw new NotFoundError(`No route ${method} ${path}.`);
      }
      const pathParameters = Object.fromEntries(match.names.map((n, i) => [n, decodePathSegment(values[i])]));

      let claims: Record<string, unknown> | undefined;
      if (match.route.access !== 'public') {
        const header = req.headers.authorization ?? '';
        const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
        if (!token) throw new NotAuthenticatedError();
        try {
          claims = Object.fromEntries(Object.entries(await verifyLocalToken(token)).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
        } catch {
          throw new NotAuthenticatedError('The token is invalid or expired.');
        }
      }

      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
      const query: Record<string, string> = {};
      for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
      const isText = rawBody.length === 0 || /json|text|csv|xml|x-www-form-urlencoded/.test(headers['content-type'] ?? 'application/json');
      const event: ApiEvent = {
        version: '2.0',
        routeKey: routeKey(match.route),
        rawPath: path,
        rawQueryString: url.search.replace(/^\?/, ''),
        headers,
        queryStringParameters: Object.keys(query).length ? query : undefined,
        pathParameters: Object.keys(pathParameters).length ? pathParameters : undefined,
        body: rawBody.length ? (isText ? rawBody.toString('utf8') : rawBody.toString('base64')) : undefined,
        isBase64Encoded: rawBody.length > 0 && !isText,
        requestContext: {
          accountId: '000000000000',
          apiId: 'local',
          domainName: headers.host ?? 'localhost',
          domainPrefix: 'local',
          requestId,
          routeKey: routeKey(match.route),
          stage: '$default',
          time: new Date().toUTCString(),
          timeEpoch: Date.now(),
          http: { method, path, protocol: 'HTTP/1.1', sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
          authorizer: claims ? { jwt: { claims } } : undefined,
        },
      } as ApiEvent;
      const handler = await loadHandler(match.route.area);
      send((await handler(event, fakeContext(match.route.area, requestId))) as APIGatewayProxyStructuredResultV2);
    } catch (error) {
      sendProblem(error);
    }
  });
  server.on('clientError', answerUnparsable);
  return server;
}

/**
 * A request Node's HTTP parser refuses (headers over its limit, a bad Content-Length, not HTTP at all) never reaches
 * the handler; it still gets a problem document and a request id, as every answer does.
 */
function answerUnparsable(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const requestId = randomUUID();
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const answer = tooLarge
    ? problem(
        431,
        'request_header_fields_too_large',
        'Request header fields too large',
        'The request headers are over the size the server reads.',
        {},
        requestId,
      )
    : problem(
        400,
        'malformed_request',
        'Malformed request',
        'The request is not well-formed HTTP (its request line, headers or Content-Length).',
        {},
        requestId,
      );
  const body = Buffer.from(JSON.stringify(answer.body));
  const headers = { ...CORS_HEADERS, ...answer.headers, 'x-request-id': requestId, 'content-length': String(body.length), connection: 'close' };
  const head = [`HTTP/1.1 ${answer.status} ${http.STATUS_CODES[answer.status]}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)].join('\r\n');
  socket.end(Buffer.concat([Buffer.from(`${head}\r\n\r\n`), body]));
}

/** Loads each area's Lambda entry module (`functions/<area>/handler.ts`) once. */
export function areaHandlerLoader(): (area: ApiArea) => Promise<AreaHandler> {
  const cache = new Map<string, Promise<AreaHandler>>();
  return (area) => {
    let loading = cache.get(area);
    if (!loading) {
      loading = import(`../../functions/${area}/handler.ts`).then((m: { handler: AreaHandler }) => m.handler);
      cache.set(area, loading);
    }
    return loading;
  };
}

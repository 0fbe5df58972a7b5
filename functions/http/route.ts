import type { z } from 'zod';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Principal, Role } from '../domain/principal.js';

export type { CompanyPrincipal, Principal, Role } from '../domain/principal.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Lambda areas: one function per area in AWS. Routes name their area so the CDK stack, the local server
 * and the OpenAPI document are all built from one route table.
 */
export const API_AREAS = ['platform', 'companies', 'clients', 'billing', 'email', 'packages', 'automation', 'imports'] as const;
export type ApiArea = (typeof API_AREAS)[number];

/** The timeout lib/function.ts gives every API function. */
export const API_FUNCTION_TIMEOUT_MS = 20_000;

export interface HttpResponse {
  status: number;
  headers?: Record<string, string>;
  /** JSON-serialisable body, or a Buffer/string for downloads (then set content-type). */
  body?: unknown;
  isBase64Encoded?: boolean;
  /** Top-level body fields shown once and never stored for an idempotent replay (e.g. a generated password). */
  notStored?: string[];
  /**
   * A 5xx that is an outcome, not a fault: the idempotency record keeps it and replays it, where a fault releases the
   * key so a retry acts again (a payment left pending would be charged again).
   */
  final?: boolean;
}

export interface RouteContext<Body = unknown, Query = unknown, Params = unknown> {
  body: Body;
  query: Query;
  params: Params;
  /** Null only on public routes. */
  principal: Principal | null;
  requestId: string;
  headers: Record<string, string>;
  logger: Logger;
  /** The request's path as called (for cursors bound to a list). */
  path: string;
  /** The caller's address as the front door saw it (API Gateway's `sourceIp`; the socket's locally). */
  sourceIp: string | null;
}

export type Access = 'public' | readonly Role[];

export interface RouteDefinition<B extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, P extends z.ZodType = z.ZodType> {
  method: HttpMethod;
  /** API Gateway style path, `{name}` for parameters. */
  path: string;
  area: ApiArea;
  access: Access;
  summary: string;
  tags?: string[];
  body?: B;
  query?: Q;
  params?: P;
  /** Status of a successful response, for the OpenAPI document. */
  successStatus?: number;
  /** Schema of a successful response body, for the OpenAPI document. */
  response?: z.ZodType;
  /** Content types other than JSON the route can answer with (PDF, CSV, HTML). */
  produces?: string[];
  /** Redirects the route can answer with instead of its success (a `Location` header, no body), by status. */
  redirects?: Record<number, string>;
  /**
   * Problem statuses the route can answer with beyond those every route of its kind can (see `declaredResponses` in
   * openapi.ts): a 409 or 422 of its own rules, a declined payment's 402, a gateway's 502.
   */
  errors?: number[];
  handle: (ctx: RouteContext<z.output<B>, z.output<Q>, z.output<P>>) => Promise<HttpResponse>;
}

export type AnyRoute = RouteDefinition<z.ZodType, z.ZodType, z.ZodType>;

/** Declares a route with its schemas typed end to end. */
export function route<B extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodType, P extends z.ZodType = z.ZodType>(
  definition: RouteDefinition<B, Q, P>,
): AnyRoute {
  return definition as unknown as AnyRoute;
}

export function routeKey(r: { method: string; path: string }): string {
  return `${r.method} ${r.path}`;
}

export const json = (status: number, body: unknown, headers?: Record<string, string>): HttpResponse => ({ status, body, headers });
export const noContent = (): HttpResponse => ({ status: 204 });

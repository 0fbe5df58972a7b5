import { decodeCursor, encodeCursor, listQuery } from '../http/cursor.js';
import { json, route, type AnyRoute, type ApiArea, type CompanyPrincipal, type Role } from '../http/route.js';
import type { z } from 'zod';
import { idParam, listOf } from '../http/schemas.js';
import { requireClient } from '../store/clients.js';
import type { Page } from '../store/dynamo.js';

export interface ClientListRouteOptions<T> {
  /** `/v1/clients/{id}/<things>` */
  path: string;
  area: ApiArea;
  access: readonly Role[];
  summary: string;
  tags: string[];
  /** One page of the client's records, typed by their store module's mapper. */
  read: (companyId: string, clientId: string, limit: number, startKey?: Record<string, unknown>) => Promise<Page<T>>;
  view: (record: T) => unknown;
  /** The schema of one `view`, for the list's declared response. */
  itemSchema?: z.ZodType;
}

/**
 * `GET /v1/clients/{id}/<things>`: one page of a client's records with a cursor bound to that client and list.
 * A client token reaches only its own client; an unknown client is a 404.
 */
export function clientListRoute<T>(o: ClientListRouteOptions<T>): AnyRoute {
  return route({
    method: 'GET',
    path: o.path,
    area: o.area,
    access: o.access,
    summary: o.summary,
    tags: o.tags,
    params: idParam,
    query: listQuery,
    response: o.itemSchema && listOf(o.itemSchema),
    handle: async ({ principal, params, query }) => {
      const companyId = (principal as CompanyPrincipal).companyId;
      await requireClient(companyId, params.id);
      const scope = `${companyId}|${o.path}|${params.id}`;
      const page = await o.read(companyId, params.id, query.limit, await decodeCursor(scope, query.cursor));
      return json(200, { data: page.items.map(o.view), nextCursor: await encodeCursor(scope, page.lastKey) });
    },
  });
}

import { actorOf } from '../../domain/activity.js';
import { json, route } from '../../http/route.js';
import { idParam } from '../../http/schemas.js';
import { companyOf } from '../../domain/principal.js';
import { statementQuery } from '../schemas.js';
import { buildClientStatement, renderClientStatementPdf } from './build-statement.js';
import { sendStatement } from './send-statement.js';
import { mailQueuedSchema, statementSchema } from '../response-schemas.js';

export const statementRoutes = [
  route({
    method: 'GET',
    path: '/v1/clients/{id}/statement',
    area: 'billing',
    access: ['staff', 'client'],
    summary: 'Statement for a period: opening balance, dated lines with running balance, closing balance (JSON or PDF)',
    tags: ['Statements'],
    response: statementSchema,
    params: idParam,
    query: statementQuery,
    produces: ['application/pdf'],
    handle: async ({ principal, params, query, headers }) => {
      const input = { companyId: companyOf(principal), clientId: params.id, currency: query.currency, from: query.from, to: query.to };
      const wantsPdf = query.format === 'pdf' || (query.format === undefined && (headers.accept ?? '').includes('application/pdf'));
      if (!wantsPdf) return json(200, (await buildClientStatement(input)).statement);
      const { statement, pdf } = await renderClientStatementPdf(input);
      return {
        status: 200,
        headers: { 'content-type': 'application/pdf', 'content-disposition': `inline; filename="statement-${statement.from}-${statement.to}.pdf"` },
        body: pdf,
      };
    },
  }),
  route({
    method: 'POST',
    path: '/v1/clients/{id}/statement/send',
    area: 'billing',
    access: ['staff'],
    summary: 'Email the statement with its PDF attached',
    tags: ['Statements'],
    response: mailQueuedSchema,
    params: idParam,
    query: statementQuery,
    successStatus: 202,
    handle: async ({ principal, params, query }) => {
      const { mailId } = await sendStatement({
        companyId: companyOf(principal),
        clientId: params.id,
        currency: query.currency,
        from: query.from,
        to: query.to,
        actor: actorOf(principal),
      });
      return json(202, { status: 'accepted', mailId });
    },
  }),
];

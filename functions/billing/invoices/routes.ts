import { actorOf } from '../../domain/activity.js';
import { clientListRoute } from '../../clients/list-route.js';
import { invoiceView, visibleInvoiceFilter } from '../../domain/invoice.js';
import { recurringInvoiceView } from '../../domain/recurring-invoice.js';
import { decodeCursor, encodeCursor } from '../../http/cursor.js';
import { json, noContent, route } from '../../http/route.js';
import { idParam } from '../../http/schemas.js';
import { parseIfMatch } from '../../store/items.js';
import { companyOf } from '../../domain/principal.js';
import { createInvoiceBody, listInvoicesQuery, updateInvoiceBody, updateRecurringBody } from '../schemas.js';
import { createInvoice } from './create-invoice.js';
import { deliverInvoice } from './deliver-invoice.js';
import { listVisibleInvoices, readInvoice } from './read-invoices.js';
import { deleteRecurringInvoice, listRecurringInvoices, readRecurringInvoice, updateRecurringInvoice } from './recurring-invoices.js';
import { getInvoicePdf } from './render-invoice-pdf.js';
import { updateInvoice } from './update-invoice.js';
import { voidInvoice } from './void-invoice.js';
import { invoiceListSchema, invoiceSchema, mailQueuedSchema, recurringInvoiceSchema } from '../response-schemas.js';

const STAFF = ['staff'] as const;
const STAFF_AND_CLIENT = ['staff', 'client'] as const;

export const invoiceRoutes = [
  route({
    method: 'POST',
    path: '/v1/clients/{id}/invoices',
    area: 'billing',
    access: STAFF,
    summary: 'Create an invoice (draft or open), optionally the first of a recurring series',
    tags: ['Invoices'],
    response: invoiceSchema,
    params: idParam,
    body: createInvoiceBody,
    successStatus: 201,
    handle: async ({ principal, params, body }) => {
      const { invoice } = await createInvoice({ companyId: companyOf(principal), clientId: params.id, ...body });
      return json(201, invoiceView(invoice));
    },
  }),
  route({
    method: 'GET',
    path: '/v1/invoices',
    area: 'billing',
    access: STAFF_AND_CLIENT,
    summary: 'List invoices by client, status, currency and due date (a client token sees its own)',
    tags: ['Invoices'],
    response: invoiceListSchema,
    query: listInvoicesQuery,
    handle: async ({ principal, query }) => {
      const companyId = companyOf(principal);
      const filter = visibleInvoiceFilter(principal, { clientId: query.clientId, status: query.status, currency: query.currency, dueBefore: query.dueBefore });
      if (!filter) return json(200, { data: [], nextCursor: null });
      const scope = `${companyId}|invoices|${filter.clientId ?? ''}|${filter.status ?? ''}|${filter.currency ?? ''}|${filter.dueBefore ?? ''}`;
      const page = await listVisibleInvoices({ companyId, filter, limit: query.limit, startKey: await decodeCursor(scope, query.cursor) });
      return json(200, { data: page.items.map(invoiceView), nextCursor: await encodeCursor(scope, page.lastKey) });
    },
  }),
  route({
    method: 'GET',
    path: '/v1/invoices/{id}',
    area: 'billing',
    access: STAFF_AND_CLIENT,
    summary: 'Read an invoice',
    tags: ['Invoices'],
    response: invoiceSchema,
    params: idParam,
    handle: async ({ principal, params }) => json(200, invoiceView(await readInvoice({ companyId: companyOf(principal), invoiceId: params.id, principal }))),
  }),
  route({
    method: 'PATCH',
    path: '/v1/invoices/{id}',
    area: 'billing',
    access: STAFF,
    summary: 'Change a draft; {status:"open"} opens it and assigns its number',
    tags: ['Invoices'],
    response: invoiceSchema,
    params: idParam,
    body: updateInvoiceBody,
    handle: async ({ principal, params, body, headers }) => {
      const { status, ...changes } = body;
      const invoice = await updateInvoice({
        companyId: companyOf(principal),
        invoiceId: params.id,
        expectedVersion: parseIfMatch(headers['if-match']),
        ...changes,
        open: status === 'open',
      });
      return json(200, invoiceView(invoice));
    },
  }),
  route({
    method: 'POST',
    path: '/v1/invoices/{id}/void',
    area: 'billing',
    access: STAFF,
    summary: 'Void an open or paid invoice; its payments become credit',
    tags: ['Invoices'],
    response: invoiceSchema,
    params: idParam,
    successStatus: 200,
    handle: async ({ principal, params }) => json(200, invoiceView(await voidInvoice({ companyId: companyOf(principal), invoiceId: params.id }))),
  }),
  route({
    method: 'GET',
    path: '/v1/invoices/{id}/pdf',
    area: 'billing',
    access: STAFF_AND_CLIENT,
    summary: 'The invoice as a PDF',
    tags: ['Invoices'],
    params: idParam,
    produces: ['application/pdf'],
    handle: async ({ principal, params }) => {
      const { invoice, pdf } = await getInvoicePdf({ companyId: companyOf(principal), invoiceId: params.id, principal });
      return {
        status: 200,
        headers: { 'content-type': 'application/pdf', 'content-disposition': `inline; filename="invoice-${invoice.number ?? 'draft'}.pdf"` },
        body: pdf,
      };
    },
  }),
  route({
    method: 'POST',
    path: '/v1/invoices/{id}/deliver',
    area: 'billing',
    access: STAFF,
    summary: 'Email the invoice with its PDF to the billing contacts (or the client)',
    tags: ['Invoices'],
    response: mailQueuedSchema,
    params: idParam,
    successStatus: 202,
    handle: async ({ principal, params }) => {
      const { mailId } = await deliverInvoice({ companyId: companyOf(principal), invoiceId: params.id, actor: actorOf(principal) });
      return json(202, { status: 'accepted', mailId });
    },
  }),
  clientListRoute({
    path: '/v1/clients/{id}/recurring-invoices',
    area: 'billing',
    access: STAFF,
    summary: "List a client's recurring invoice series",
    tags: ['Recurring invoices'],
    itemSchema: recurringInvoiceSchema,
    read: listRecurringInvoices,
    view: recurringInvoiceView,
  }),
  route({
    method: 'GET',
    path: '/v1/recurring-invoices/{id}',
    area: 'billing',
    access: STAFF,
    summary: 'Read a recurring invoice series',
    tags: ['Recurring invoices'],
    response: recurringInvoiceSchema,
    params: idParam,
    handle: async ({ principal, params }) => json(200, recurringInvoiceView(await readRecurringInvoice(companyOf(principal), params.id))),
  }),
  route({
    method: 'PATCH',
    path: '/v1/recurring-invoices/{id}',
    area: 'billing',
    access: STAFF,
    summary: 'Change the lines, term, period or occurrences of a series (applies to invoices not yet created)',
    tags: ['Recurring invoices'],
    response: recurringInvoiceSchema,
    params: idParam,
    body: updateRecurringBody,
    handle: async ({ principal, params, body, headers }) => {
      const series = await updateRecurringInvoice({
        companyId: companyOf(principal),
        id: params.id,
        expectedVersion: parseIfMatch(headers['if-match']),
        ...body,
      });
      return json(200, recurringInvoiceView(series));
    },
  }),
  route({
    method: 'DELETE',
    path: '/v1/recurring-invoices/{id}',
    area: 'billing',
    access: STAFF,
    summary: 'Stop a series (invoices already created stay)',
    tags: ['Recurring invoices'],
    params: idParam,
    successStatus: 204,
    handle: async ({ principal, params }) => {
      await deleteRecurringInvoice(companyOf(principal), params.id);
      return noContent();
    },
  }),
];

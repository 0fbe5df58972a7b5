import { clientListRoute } from '../clients/list-route.js';
import { addTerm, daysBetween } from '../domain/dates.js';
import { newId } from '../domain/ids.js';
import { invoiceView, type Invoice, type RecurringInvoice } from '../domain/invoice.js';
import { planInvoiceVoid } from '../domain/ledger.js';
import { parseQuantity } from '../domain/quantity.js';
import { decodeCursor, encodeCursor } from '../http/cursor.js';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.js';
import { json, noContent, route } from '../http/route.js';
import { idParam } from '../http/schemas.js';
import { requireClient } from '../store/clients.js';
import { requireCompany } from '../store/companies.js';
import { deleteRecurring, findRecurring, insertInvoice, listInvoices, openDraft, replaceDraft, replaceRecurring, requireInvoice } from '../store/invoices.js';
import { assertVersion, nowIso, parseIfMatch } from '../store/items.js';
import { RECURRING_SK_PREFIX } from '../store/keys.js';
import { commitLedger, loadLedger } from '../store/ledger.js';
import { assertCurrency, assertVisibleTo, companyOf, ledgerError, priceLines, today, withRetries } from './common.js';
import { renderInvoiceDocument } from './documents.js';
import { createInvoiceBody, listInvoicesQuery, updateInvoiceBody, updateRecurringBody } from './schemas.js';

const STAFF = ['staff'] as const;
const STAFF_AND_CLIENT = ['staff', 'client'] as const;

function assertDates(dateBilled: string, dateDue: string): void {
  if (dateDue < dateBilled) throw ValidationError.field('dateDue', 'The due date cannot be before the billing date.');
}

const recurringView = (r: RecurringInvoice) => ({
  id: r.id,
  clientId: r.clientId,
  currency: r.currency,
  lines: r.lines,
  term: r.term,
  period: r.period,
  occurrences: r.occurrences,
  created: r.created,
  nextBillDate: r.nextBillDate,
  dueAfterDays: r.dueAfterDays,
  status: r.status,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
  version: r.version,
});

export const invoiceRoutes = [
  route({
    method: 'POST',
    path: '/v1/clients/{id}/invoices',
    area: 'billing',
    access: STAFF,
    summary: 'Create an invoice (draft or open), optionally the first of a recurring series',
    tags: ['Invoices'],
    params: idParam,
    body: createInvoiceBody,
    successStatus: 201,
    handle: async ({ principal, params, body }) => {
      const companyId = companyOf(principal);
      const [company, client] = await Promise.all([requireCompany(companyId), requireClient(companyId, params.id)]);
      const currency = body.currency ?? client.currency;
      assertCurrency(company, currency);
      const dateBilled = body.dateBilled ?? today(company);
      const dateDue = body.dateDue ?? dateBilled;
      assertDates(dateBilled, dateDue);
      const priced = priceLines(company, client, body.lines);
      const now = nowIso();
      const status = body.status ?? 'open';
      const invoice: Invoice = {
        id: newId('inv'),
        clientId: client.id,
        number: null,
        currency,
        status: status === 'open' && priced.total === 0 ? 'paid' : status,
        dateBilled,
        dateDue,
        lines: priced.lines,
        taxRate: priced.taxRate,
        subtotal: priced.subtotal,
        tax: priced.tax,
        total: priced.total,
        paid: 0,
        due: priced.total,
        recurringInvoiceId: null,
        voidedOn: null,
        createdAt: now,
        updatedAt: now,
        version: 1,
      };
      if (invoice.status === 'paid') invoice.due = 0;
      let recurring: RecurringInvoice | undefined;
      if (body.recurring) {
        const occurrences = body.recurring.occurrences ?? null;
        recurring = {
          id: newId('rinv'),
          clientId: client.id,
          currency,
          lines: body.lines.map((l, i) => ({ description: l.description, quantity: priced.lines[i].quantity, unitAmount: l.unitAmount, taxable: l.taxable ?? true })),
          term: body.recurring.term,
          period: body.recurring.period,
          occurrences,
          created: 1,
          nextBillDate: occurrences === 1 ? null : addTerm(dateBilled, body.recurring.term, body.recurring.period),
          dueAfterDays: daysBetween(dateBilled, dateDue),
          status: occurrences === 1 ? 'completed' : 'active',
          createdAt: now,
          updatedAt: now,
          version: 1,
        };
        invoice.recurringInvoiceId = recurring.id;
      }
      const stored = await insertInvoice(companyId, invoice, recurring);
      return json(201, invoiceView(stored));
    },
  }),
  route({
    method: 'GET',
    path: '/v1/invoices',
    area: 'billing',
    access: STAFF_AND_CLIENT,
    summary: 'List invoices by client, status, currency and due date (a client token sees its own)',
    tags: ['Invoices'],
    query: listInvoicesQuery,
    handle: async ({ principal, query }) => {
      const companyId = companyOf(principal);
      let clientId = query.clientId;
      if (principal?.role === 'client') {
        if (clientId !== undefined && clientId !== principal.clientId) return json(200, { data: [], nextCursor: null });
        clientId = principal.clientId;
      }
      const scope = `${companyId}|invoices|${clientId ?? ''}|${query.status ?? ''}|${query.currency ?? ''}|${query.dueBefore ?? ''}`;
      // Drafts are the company's work in progress: a client sees an invoice once it is open.
      const hideDrafts = principal?.role === 'client';
      if (hideDrafts && query.status === 'draft') return json(200, { data: [], nextCursor: null });
      const page = await listInvoices(companyId, { clientId, status: query.status, currency: query.currency, dueBefore: query.dueBefore, excludeDrafts: hideDrafts, limit: query.limit, startKey: await decodeCursor(scope, query.cursor) });
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
    params: idParam,
    handle: async ({ principal, params }) => {
      const invoice = await requireInvoice(companyOf(principal), params.id);
      assertVisibleTo(principal, invoice.clientId, 'invoice');
      if (principal?.role === 'client' && invoice.status === 'draft') throw new NotFoundError('No such invoice.');
      return json(200, invoiceView(invoice));
    },
  }),
  route({
    method: 'PATCH',
    path: '/v1/invoices/{id}',
    area: 'billing',
    access: STAFF,
    summary: 'Change a draft; {status:"open"} opens it and assigns its number',
    tags: ['Invoices'],
    params: idParam,
    body: updateInvoiceBody,
    handle: async ({ principal, params, body, headers }) => {
      const companyId = companyOf(principal);
      const current = await requireInvoice(companyId, params.id);
      assertVersion(current, parseIfMatch(headers['if-match']));
      if (current.status !== 'draft') throw new ConflictError('Only draft invoices can be changed.', { code: 'invoice_not_draft' });
      const [company, client] = await Promise.all([requireCompany(companyId), requireClient(companyId, current.clientId)]);
      const currency = body.currency ?? current.currency;
      if (body.currency) assertCurrency(company, currency);
      const dateBilled = body.dateBilled ?? current.dateBilled;
      const dateDue = body.dateDue ?? (body.dateBilled && current.dateDue < body.dateBilled ? body.dateBilled : current.dateDue);
      assertDates(dateBilled, dateDue);
      const priced = body.lines ? priceLines(company, client, body.lines) : { lines: current.lines, subtotal: current.subtotal, tax: current.tax, total: current.total, taxRate: current.taxRate };
      const next: Invoice = { ...current, currency, dateBilled, dateDue, ...priced, due: priced.total, updatedAt: nowIso(), version: current.version + 1 };
      if (body.status === 'open') {
        const opened = await openDraft(companyId, current, { ...next, status: next.total === 0 ? 'paid' : 'open', due: next.total === 0 ? 0 : next.total });
        return json(200, invoiceView(opened));
      }
      await replaceDraft(companyId, current, next);
      return json(200, invoiceView(next));
    },
  }),
  route({
    method: 'POST',
    path: '/v1/invoices/{id}/void',
    area: 'billing',
    access: STAFF,
    summary: 'Void an open or paid invoice; its payments become credit',
    tags: ['Invoices'],
    params: idParam,
    successStatus: 200,
    handle: async ({ principal, params }) => {
      const companyId = companyOf(principal);
      const first = await requireInvoice(companyId, params.id);
      const company = await requireCompany(companyId);
      if (first.status === 'draft') throw new ConflictError('A draft is not voided; change or delete it instead.', { code: 'invoice_not_voidable' });
      await withRetries(async () => {
        const loaded = await loadLedger(companyId, first.clientId);
        const plan = planInvoiceVoid(loaded.state, first.id);
        if (!plan.ok) throw ledgerError(plan.error);
        await commitLedger(companyId, first.clientId, plan.changes, { loaded, today: today(company), invoiceFields: { [first.id]: { voidedOn: today(company) } } });
      });
      return json(200, invoiceView(await requireInvoice(companyId, params.id)));
    },
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
      const companyId = companyOf(principal);
      const invoice = await requireInvoice(companyId, params.id);
      assertVisibleTo(principal, invoice.clientId, 'invoice');
      if (principal?.role === 'client' && invoice.status === 'draft') throw new NotFoundError('No such invoice.');
      const pdf = await renderInvoiceDocument(companyId, invoice);
      return { status: 200, headers: { 'content-type': 'application/pdf', 'content-disposition': `inline; filename="invoice-${invoice.number ?? 'draft'}.pdf"` }, body: pdf };
    },
  }),
  clientListRoute<RecurringInvoice>({
    path: '/v1/clients/{id}/recurring-invoices',
    area: 'billing',
    access: STAFF,
    summary: "List a client's recurring invoice series",
    tags: ['Recurring invoices'],
    prefix: RECURRING_SK_PREFIX,
    view: recurringView,
  }),
  route({
    method: 'GET',
    path: '/v1/recurring-invoices/{id}',
    area: 'billing',
    access: STAFF,
    summary: 'Read a recurring invoice series',
    tags: ['Recurring invoices'],
    params: idParam,
    handle: async ({ principal, params }) => {
      const r = await findRecurring(companyOf(principal), params.id);
      if (!r) throw new NotFoundError('No such recurring invoice.');
      return json(200, recurringView(r));
    },
  }),
  route({
    method: 'PATCH',
    path: '/v1/recurring-invoices/{id}',
    area: 'billing',
    access: STAFF,
    summary: 'Change the lines, term, period or occurrences of a series (applies to invoices not yet created)',
    tags: ['Recurring invoices'],
    params: idParam,
    body: updateRecurringBody,
    handle: async ({ principal, params, body, headers }) => {
      const companyId = companyOf(principal);
      const current = await findRecurring(companyId, params.id);
      if (!current) throw new NotFoundError('No such recurring invoice.');
      assertVersion(current, parseIfMatch(headers['if-match']));
      const occurrences = body.occurrences !== undefined ? body.occurrences : current.occurrences;
      if (occurrences !== null && occurrences < current.created) throw ValidationError.field('occurrences', `${current.created} invoices of this series exist already.`);
      const term = body.term ?? current.term;
      const period = body.period ?? current.period;
      // Priced now only to refuse what could never be invoiced (an overflow, a negative total, too large an item).
      if (body.lines) {
        const [company, client] = await Promise.all([requireCompany(companyId), requireClient(companyId, current.clientId)]);
        priceLines(company, client, body.lines);
      }
      const completed = occurrences !== null && current.created >= occurrences;
      const next: RecurringInvoice = {
        ...current,
        lines: body.lines ? body.lines.map((l) => ({ description: l.description, quantity: parseQuantity(l.quantity).text, unitAmount: l.unitAmount, taxable: l.taxable ?? true })) : current.lines,
        term,
        period,
        occurrences,
        status: completed ? 'completed' : 'active',
        nextBillDate: completed ? null : current.nextBillDate,
        updatedAt: nowIso(),
        version: current.version + 1,
      };
      await replaceRecurring(companyId, current, next);
      return json(200, recurringView(next));
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
      const companyId = companyOf(principal);
      const current = await findRecurring(companyId, params.id);
      if (!current) throw new NotFoundError('No such recurring invoice.');
      await deleteRecurring(companyId, current);
      return noContent();
    },
  }),
];


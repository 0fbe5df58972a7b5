import { createInvoice } from '../../billing/invoices/create-invoice.js';
import type { Client } from '../../domain/client.js';
import type { Company } from '../../domain/company.js';
import { addDays } from '../../domain/dates.js';
import type { LineInput } from '../../domain/invoice-pricing.js';
import { priceLines } from '../../domain/invoice-pricing.js';
import { billsNothing, nextInvoiceDate, periodStart, periodsDue, serviceLines, type Service } from '../../domain/service.js';
import type { TransactItem } from '../../store/dynamo.js';
import { nowIso } from '../../store/items.js';
import { doneAmong, doneKey, isDone, onceMarkerPut, type OnceKey } from '../../store/once.js';
import { getServices, listServices, queryServicesDue, renewalUpdate } from '../../store/services.js';
import { isAutomated, loadClients, loadCompanyView } from '../company-view.js';
import type { AutomationAction, RunContext, WorkSource } from '../task.js';
import type { PageListing } from '../../store/automation-runs.js';
import { attempt, byThisPage, doneBefore, finished, inactiveClient, listPage, nextKeyOf, pageOf, skipped, startKeyOf, type ActionBase } from './work.js';

/**
 * At most this many services on one invoice: each adds its line, its advanced next date and its once-marker to the
 * invoice's transaction (DynamoDB takes 100 items; the invoice, its pointer, number, balance and guard take 5).
 */
export const MAX_SERVICES_PER_INVOICE = 40;

/** One period of one service to invoice. */
interface Renewal {
  client: Client;
  /** The service as it is before this period is invoiced. */
  service: Service;
  index: number;
  periodStart: string;
}

/**
 * Renewals of services: each active service (suspended ones too where the client's group has
 * `invoiceSuspendedServices`) whose next period starts within `invoiceDaysBeforeRenewal` days gets an invoice per
 * period not yet invoiced — missed terms are caught up, one invoice each — due on the period's first day (its renew
 * date). Where the group has `invoiceServicesTogether`, the periods of one client, currency and renew date share an
 * invoice. Each invoice commits, in createInvoice's transaction, every service's next period moved on (conditioned
 * on the periods invoiced and the status read) and its once-marker (`renewals`, the service, the period's first day).
 * Read from the services' renewal index up to `date + the widest invoiceDaysBeforeRenewal`.
 */
export const renewServicesSource: WorkSource = {
  name: 'services',
  async page(ctx, key, limit) {
    const view = await loadCompanyView(ctx.companyId);
    const horizon = view.widest((s) => s.invoiceDaysBeforeRenewal) ?? 0;
    const startKey = startKeyOf(key);
    const page = await listPage(ctx, 'services', key, () => queryServicesDue(ctx.companyId, addDays(ctx.date, horizon), limit, startKey));
    const clients = await loadClients(
      ctx.companyId,
      page.items.map((s) => s.clientId),
    );
    const renewals: Renewal[] = [];
    // A client that invoices services together gets all its services of a renew date on one invoice, wherever their
    // index entries fall among the pages: its other services are read with it (those of later pages have moved on
    // by the time their entries are read).
    // Such a client is renewed in the page of its first entry; a later page leaves it alone (in a dry run nothing has
    // moved on, so it would be planned twice).
    const together = [...clients.values()].filter((c) => isAutomated(c) && view.settingsOf(c.groupId).invoiceServicesTogether);
    const togetherIds = new Set(together.map((c) => c.id));
    // The index may lag a change by a moment: each service is renewed from what it is now (read once: a client
    // invoicing together has all its services read below).
    const [services, owners] = await Promise.all([
      getServices(
        ctx.companyId,
        page.items.filter((entry) => !togetherIds.has(entry.clientId)),
      ),
      Promise.all(together.map(async (c) => [c, await allServicesOf(ctx.companyId, c.id)] as const)),
    ]);
    const actions: AutomationAction[] = [];
    const pageStart = typeof startKey?.GSI2SK === 'string' ? startKey.GSI2SK : null;
    const handledBefore = new Set<string>();
    const more: Service[] = [];
    for (const [client, owned] of owners) {
      const entries = owned.map((s) => nextInvoiceDate(s) && `${nextInvoiceDate(s)}#${s.id}`).filter((k): k is string => Boolean(k));
      if (pageStart !== null && entries.some((k) => k <= pageStart)) handledBefore.add(client.id);
      else more.push(...owned);
    }
    const byId = new Map([...more, ...services].map((s) => [s.id, s] as const));
    for (const service of byId.values()) {
      const client = clients.get(service.clientId);
      if (!client || handledBefore.has(client.id)) continue;
      const settings = view.settingsOf(client.groupId);
      // A replay: the periods the killed attempt invoiced are this run's work (the service has moved on since).
      for (const index of await periodsInvoicedByThisPage(ctx, page, service)) actions.push(doneBefore(baseOf(service, periodStart(service, index))));
      const due = periodsDue(service, ctx.date, settings.invoiceDaysBeforeRenewal);
      if (!due.length) continue;
      const base = baseOf(service, periodStart(service, due[0]));
      if (!isAutomated(client)) {
        actions.push(inactiveClient(base));
        continue;
      }
      if (service.status === 'suspended' && !settings.invoiceSuspendedServices) {
        actions.push(skipped(base, 'service is suspended (invoiceSuspendedServices is off)'));
        continue;
      }
      for (const index of due) renewals.push({ client, service: { ...service, periodsInvoiced: index }, index, periodStart: periodStart(service, index) });
    }
    // A service's later periods follow from its earlier ones (the condition on the periods invoiced): in date order,
    // and none after one that was not done.
    const stopped = new Set<string>();
    for (const group of groupRenewals(renewals, (r) => view.settingsOf(r.client.groupId).invoiceServicesTogether)) {
      const live = group.filter((r) => !stopped.has(r.service.id));
      if (!live.length) continue;
      const done = await invoiceGroup(ctx, view.company, live);
      actions.push(...done);
      for (const a of done) if (a.outcome !== 'done' && a.outcome !== 'planned') stopped.add(a.objectId);
    }
    return pageOf(actions, nextKeyOf(page.lastKey), page.items.length);
  },
};

/**
 * On a replay, the periods of a service that this page's killed attempt invoiced, oldest first: the latest ones
 * invoiced whose markers this run wrote since the page was listed (one batch read; none on a first attempt).
 */
async function periodsInvoicedByThisPage(ctx: RunContext, listing: PageListing<unknown>, service: Service): Promise<number[]> {
  // Period 0 is the term the service was sold with, never a renewal; at most a page's catch-up looked at.
  const latest = Array.from({ length: Math.min(service.periodsInvoiced - 1, 50) }, (_, i) => service.periodsInvoiced - 1 - i);
  if (!listing.replay || !latest.length) return [];
  const once = (index: number): OnceKey => ({
    companyId: ctx.companyId,
    clientId: service.clientId,
    task: 'renewals',
    objectId: service.id,
    period: periodStart(service, index),
  });
  const markers = await doneAmong(latest.map(once));
  const mine: number[] = [];
  for (const index of latest) {
    if (!byThisPage(ctx, listing, markers.get(doneKey(once(index))))) break;
    mine.unshift(index);
  }
  return mine;
}

/** Every service of a client (a client has few). */
async function allServicesOf(companyId: string, clientId: string): Promise<Service[]> {
  const all: Service[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await listServices(companyId, clientId, 100, startKey);
    all.push(...page.items);
    startKey = page.lastKey;
  } while (startKey);
  return all;
}

const baseOf = (s: Service, renewDate: string): ActionBase => ({
  task: 'renewals',
  objectType: 'service',
  objectId: s.id,
  clientId: s.clientId,
  action: 'invoice_created',
  details: { serviceId: s.id, renewDate, currency: s.pricing.currency },
});

/**
 * Renewals in invoices: one per period, or — where `together` — one per client, currency and renew date (at most
 * MAX_SERVICES_PER_INVOICE services each), earliest renew date first.
 */
export function groupRenewals<R extends { client: { id: string }; service: { id: string; pricing: { currency: string } }; periodStart: string }>(
  renewals: readonly R[],
  together: (r: R) => boolean,
): R[][] {
  const groups = new Map<string, R[]>();
  for (const r of renewals) {
    const key = together(r) ? `${r.periodStart}|${r.client.id}|${r.service.pricing.currency}` : `${r.periodStart}|${r.service.id}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .flatMap(([, group]) =>
      Array.from({ length: Math.ceil(group.length / MAX_SERVICES_PER_INVOICE) }, (_, i) =>
        group.slice(i * MAX_SERVICES_PER_INVOICE, (i + 1) * MAX_SERVICES_PER_INVOICE),
      ),
    );
}

/** One renewal invoice for a group of periods (one client, currency and renew date); an action per service. */
async function invoiceGroup(ctx: RunContext, company: Company, group: readonly Renewal[]): Promise<AutomationAction[]> {
  const { client, periodStart: renewDate } = group[0];
  const currency = group[0].service.pricing.currency;
  const lines: LineInput[] = group.flatMap((r) => serviceLines(r.service, r.index));
  // A renewal is due on its renew date; one caught up late is billed on that date too, never after it is due.
  const dateBilled = [ctx.date, renewDate].sort()[0];
  const once = (r: Renewal): OnceKey => ({
    companyId: ctx.companyId,
    clientId: r.service.clientId,
    task: 'renewals',
    objectId: r.service.id,
    period: r.periodStart,
  });
  const bases = group.map((r) => baseOf(r.service, r.periodStart));
  const each = (outcome: (base: ActionBase) => AutomationAction) => bases.map(outcome);
  const groupBase: ActionBase = { ...bases[0], details: { ...bases[0].details, serviceIds: group.map((r) => r.service.id) } };
  const result = await attempt(groupBase, async () => {
    if (ctx.dryRun) {
      if ((await Promise.all(group.map((r) => isDone(once(r))))).every(Boolean)) return skipped(groupBase, 'already done');
      const priced = priceLines(company.own.taxRates, client, lines);
      return finished(groupBase, true, {
        lines: priced.lines,
        subtotal: priced.subtotal,
        tax: priced.tax,
        total: priced.total,
        dateBilled,
        dateDue: renewDate,
      });
    }
    const now = nowIso();
    const paidAtOnce = billsNothing(lines) ? renewDate : undefined;
    const alsoWrite: TransactItem[] = group.flatMap((r) => [
      renewalUpdate(ctx.companyId, r.service, r.index + 1, now, paidAtOnce),
      onceMarkerPut(once(r), ctx.runId, now),
    ]);
    const { invoice } = await createInvoice({
      companyId: ctx.companyId,
      clientId: client.id,
      currency,
      dateBilled,
      dateDue: renewDate,
      lines,
      servicePeriods: group.map((r) => ({ serviceId: r.service.id, periodStart: r.periodStart })),
      alsoWrite,
      // Read once for the page: the invoice reads neither again.
      read: { company, client },
      // One invoice after another: the number starts from the one this run wrote last.
      numberedInSequence: true,
    });
    return finished(groupBase, false, {
      invoiceId: invoice.id,
      number: invoice.number,
      subtotal: invoice.subtotal,
      tax: invoice.tax,
      total: invoice.total,
      status: invoice.status,
      dateBilled,
      dateDue: renewDate,
    });
  });
  // The invoice is shared; each service gets its own row with the same outcome.
  return each((base) => ({ ...result, objectId: base.objectId, clientId: base.clientId, details: { ...result.details, serviceId: base.objectId } }));
}

import { ConflictError } from '../../domain/errors.js';
import type { Invoice } from '../../domain/invoice.js';
import { addDays } from '../../domain/dates.js';
import { isPastDue, servicesBilledBy, suspensionDue, type Service } from '../../domain/service.js';
import { changeServiceStatus } from '../../packages/change-service-status.js';
import { getInvoicesNow, openInvoicesDueBy, openInvoicesOfClient } from '../../store/invoices.js';
import { nowIso } from '../../store/items.js';
import { isDone, markersOf, onceMarkerPut, type OnceKey } from '../../store/once.js';
import { getServices, queryAutoSuspended } from '../../store/services.js';
import { isAutomated, loadClients, loadCompanyView } from '../company-view.js';
import type { AutomationAction, WorkSource } from '../task.js';
import {
  attempt,
  byThisPage,
  doneBefore,
  doneByThisPage,
  emptyPage,
  finished,
  inactiveClient,
  listPage,
  nextKeyOf,
  pageOf,
  skipped,
  startKeyOf,
  type ActionBase,
} from './work.js';

/** A service that is not in the state a change needs any more (changed since it was read): nothing to do. */
const notApplicable = (error: unknown) => error instanceof ConflictError && error.code === 'invalid_service_status';

/**
 * Suspensions: each active service billed by an open invoice that is past due by the client group's
 * `suspendServicesDaysAfterDue` days (`never`: off) is suspended by the automation, through the same use case as
 * the staff route, with the once-marker (`suspend`, the service, the invoice) in its transaction. Read from the
 * open-invoice index up to `date − the smallest suspendServicesDaysAfterDue` of the company's groups.
 */
export const suspendServicesSource: WorkSource = {
  name: 'suspendServices',
  async page(ctx, key, limit) {
    const view = await loadCompanyView(ctx.companyId);
    // The loosest bound: the smallest days-after-due of any group (widest of its negation).
    const least = view.widest((s) => (s.suspendServicesDaysAfterDue === 'never' ? 'never' : -Math.max(s.suspendServicesDaysAfterDue, 1)));
    if (least === null) return emptyPage();
    const page = await listPage(ctx, 'suspendServices', key, () => openInvoicesDueBy(ctx.companyId, addDays(ctx.date, least), limit, startKeyOf(key)));
    const carrying = page.items.filter((i) => i.servicePeriods.length > 0);
    const [clients, invoices] = await Promise.all([
      loadClients(
        ctx.companyId,
        carrying.map((i) => i.clientId),
      ),
      getInvoicesNow(ctx.companyId, carrying),
    ]);
    const services = new Map(
      (
        await getServices(
          ctx.companyId,
          invoices.flatMap((i) => servicesBilledBy(i).map((serviceId) => ({ clientId: i.clientId, serviceId }))),
        )
      ).map((s) => [s.id, s] as const),
    );
    const actions: AutomationAction[] = [];
    const suspended = new Set<string>();
    for (const invoice of invoices) {
      const client = clients.get(invoice.clientId);
      if (!client || invoice.status !== 'open') continue;
      if (!suspensionDue(invoice.dateDue, ctx.date, view.settingsOf(client.groupId).suspendServicesDaysAfterDue)) continue;
      for (const serviceId of servicesBilledBy(invoice)) {
        const service = services.get(serviceId);
        if (!service || suspended.has(serviceId)) continue;
        const base: ActionBase = {
          task: 'suspensions',
          objectType: 'service',
          objectId: serviceId,
          clientId: client.id,
          action: 'suspended',
          details: { serviceId, invoiceId: invoice.id, dateDue: invoice.dateDue },
        };
        const once: OnceKey = { companyId: ctx.companyId, clientId: client.id, task: 'suspend', objectId: serviceId, period: invoice.id };
        if (service.status !== 'active') {
          // A replay: the killed attempt may have suspended it for this invoice.
          if (service.status === 'suspended' && (await doneByThisPage(ctx, page, once))) {
            actions.push(doneBefore(base));
            suspended.add(serviceId);
          }
          continue;
        }
        if (!isAutomated(client)) {
          actions.push(inactiveClient(base));
          continue;
        }
        const action = await attempt(base, async () => {
          if (await isDone(once)) return skipped(base, 'already done');
          if (ctx.dryRun) return finished(base, true, {});
          try {
            await changeServiceStatus({
              companyId: ctx.companyId,
              serviceId,
              action: 'suspend',
              by: 'automation',
              alsoWrite: [onceMarkerPut(once, ctx.runId, nowIso())],
            });
          } catch (error) {
            if (notApplicable(error)) return skipped(base, 'service is no longer active');
            throw error;
          }
          return finished(base, false, {});
        });
        if (action.outcome === 'done' || action.outcome === 'planned') suspended.add(serviceId);
        actions.push(action);
      }
    }
    return pageOf(actions, nextKeyOf(page.lastKey), page.items.length);
  },
};

/**
 * Unsuspensions: each service the automation suspended (never one staff suspended) whose invoices are none of them
 * past due any more is made active again, with the once-marker (`unsuspend`, the service, the suspension: its date and
 * the service's version while suspended, since a service can be suspended twice on one date)
 * in its transaction. Read from the index of automation suspensions; only those services' clients' open invoices
 * are read.
 */
export const unsuspendServicesSource: WorkSource = {
  name: 'unsuspendServices',
  async page(ctx, key, limit) {
    const page = await listPage(ctx, 'unsuspendServices', key, () => queryAutoSuspended(ctx.companyId, limit, startKeyOf(key)));
    const [clients, services] = await Promise.all([
      loadClients(
        ctx.companyId,
        page.items.map((s) => s.clientId),
      ),
      getServices(ctx.companyId, page.items),
    ]);
    const openOf = new Map<string, Promise<Invoice[]>>();
    const actions: AutomationAction[] = [];
    for (const service of services) {
      const client = clients.get(service.clientId);
      if (!client) continue;
      // A replay: the killed attempt may have lifted the suspension (the service is active, out of the index now).
      if (page.replay && service.status === 'active') {
        const lifted = await markersOf({ companyId: ctx.companyId, clientId: client.id, task: 'unsuspend', objectId: service.id });
        if (lifted.some((marker) => byThisPage(ctx, page, marker)))
          actions.push(
            doneBefore({
              task: 'suspensions',
              objectType: 'service',
              objectId: service.id,
              clientId: client.id,
              action: 'unsuspended',
              details: { serviceId: service.id },
            }),
          );
        continue;
      }
      if (service.status !== 'suspended' || service.suspendedBy !== 'automation' || !service.suspendedOn) continue;
      const base: ActionBase = {
        task: 'suspensions',
        objectType: 'service',
        objectId: service.id,
        clientId: client.id,
        action: 'unsuspended',
        details: { serviceId: service.id, suspendedOn: service.suspendedOn },
      };
      if (!isAutomated(client)) {
        actions.push(inactiveClient(base));
        continue;
      }
      if (!openOf.has(client.id)) openOf.set(client.id, openInvoicesOfClient(ctx.companyId, client.id));
      const open = (await openOf.get(client.id)) ?? [];
      if (open.some((i) => isPastDue(i, ctx.date) && servicesBilledBy(i).includes(service.id))) continue;
      const suspendedOn = service.suspendedOn;
      actions.push(
        await attempt(base, async () => {
          const once: OnceKey = {
            companyId: ctx.companyId,
            clientId: client.id,
            task: 'unsuspend',
            objectId: service.id,
            period: `${suspendedOn}#v${service.version}`,
          };
          if (await isDone(once)) return skipped(base, 'already done');
          if (ctx.dryRun) return finished(base, true, {});
          try {
            await changeServiceStatus({
              companyId: ctx.companyId,
              serviceId: service.id,
              action: 'unsuspend',
              alsoWrite: [onceMarkerPut(once, ctx.runId, nowIso())],
              precondition: (now: Service) => {
                // Staff may have taken the suspension over (or lifted it) since it was read: never lift theirs.
                if (now.suspendedBy !== 'automation' || now.suspendedOn !== suspendedOn)
                  throw new ConflictError('The suspension changed.', { code: 'invalid_service_status' });
              },
            });
          } catch (error) {
            if (notApplicable(error)) return skipped(base, 'suspension changed meanwhile');
            throw error;
          }
          return finished(base, false, {});
        }),
      );
    }
    return pageOf(actions, nextKeyOf(page.lastKey), page.items.length);
  },
};

import { today } from '../billing/common.js';
import { AlreadyDoneError, ConflictError } from '../domain/errors.js';
import type { Invoice } from '../domain/invoice.js';
import { changeStatus, type Service, type StatusAction, type SuspendedBy } from '../domain/service.js';
import { requireCompany } from '../store/companies.js';
import { tableName, type TransactItem } from '../store/dynamo.js';
import { assertVersion, nowIso } from '../store/items.js';
import { applyChange } from '../store/retry.js';
import { requireService, saveService, serviceToItem } from '../store/services.js';
import { activeFromStart, invoiceFirstTerm } from './first-term.js';

export interface ChangeServiceStatusInput {
  companyId: string;
  serviceId: string;
  action: StatusAction;
  /** Who suspends (default staff); the automation lifts only its own suspensions. */
  by?: SuspendedBy;
  /** `activate`: the first day of the first term; default the service's start date, or today if that has passed. */
  startDate?: string;
  expectedVersion?: number;
  /** Written with the change (the automation's once-marker); if one's condition fails, `AlreadyDoneError` and nothing changes. */
  alsoWrite?: readonly TransactItem[];
  /** Checks the service as read before it changes (the automation: "still suspended by the automation"). */
  precondition?: (current: Service) => void;
}

export interface ChangedService {
  service: Service;
  /** The first term's invoice, when a pending service was activated. */
  invoice: Invoice | null;
}

/**
 * Suspends, unsuspends, cancels or activates a service (the allowed moves are domain/service.ts `changeStatus`).
 * Activating invoices the first term at once, as adding an active service does.
 */
export function changeServiceStatus(input: ChangeServiceStatusInput): Promise<ChangedService> {
  return applyChange(input.expectedVersion, () => changeOnce(input));
}

async function changeOnce(input: ChangeServiceStatusInput): Promise<ChangedService> {
  const [company, current] = await Promise.all([requireCompany(input.companyId), requireService(input.companyId, input.serviceId)]);
  assertVersion(current, input.expectedVersion);
  input.precondition?.(current);
  const on = today(company);
  const changed = changeStatus(current, input.action, { by: input.by, today: on, now: nowIso() });
  if (input.action !== 'activate') {
    await saveService(input.companyId, current, changed, input.alsoWrite);
    return { service: changed, invoice: null };
  }
  const startDate = input.startDate ?? [current.startDate, on].sort()[1];
  const service = activeFromStart({ ...changed, startDate });
  const write: TransactItem = {
    Put: {
      TableName: tableName(),
      Item: serviceToItem(input.companyId, service),
      ConditionExpression: 'version = :v',
      ExpressionAttributeValues: { ':v': current.version },
    },
  };
  try {
    return { service, invoice: await invoiceFirstTerm(company, service, [write, ...(input.alsoWrite ?? [])]) };
  } catch (error) {
    // The service's own condition is among the invoice's extra items: its failure is a lost race, not a repeat.
    if (error instanceof AlreadyDoneError && !input.alsoWrite?.length) {
      throw new ConflictError('The service was changed by another request; read it again.', { code: 'stale_version' });
    }
    throw error;
  }
}

import { AlreadyDoneError, ValidationError } from '../../domain/errors.js';
import { MAX_CREDIT_APPLICATION_CHANGES, planCreditApplication, type LedgerApplication } from '../../domain/ledger.js';
import type { Principal } from '../../domain/principal.js';
import { requireClient } from '../../store/clients.js';
import { requireCompany } from '../../store/companies.js';
import type { TransactItem } from '../../store/dynamo.js';
import { commitLedger, loadLedgerForCredits } from '../../store/ledger.js';
import { ledgerError, today } from '../common.js';
import { withRetries } from '../../store/retry.js';

export interface ApplyCreditsInput {
  companyId: string;
  principal: Principal | null;
  clientId: string;
  /** The credit's currency; the client's currency when neither it nor `invoiceId` is given. */
  currency?: string;
  /** Apply to this invoice only (in its currency); otherwise to open invoices, oldest due date first. */
  invoiceId?: string;
  /** Only say what would be applied now (the automation's dry run): nothing is written. */
  preview?: boolean;
  /**
   * Items that commit with the first application (the automation's once-marker: its condition failing is an
   * `AlreadyDoneError`).
   */
  alsoWrite?: TransactItem[];
}

/** Applies loose credit to open invoices and returns what was applied to each (nothing when there was none to apply). */
export async function applyCredits(input: ApplyCreditsInput): Promise<LedgerApplication[]> {
  const { companyId, invoiceId } = input;
  const [client, company] = await Promise.all([requireClient(companyId, input.clientId), requireCompany(companyId)]);
  const target = invoiceId ? { invoiceId, currency: input.currency } : { currency: input.currency ?? client.currency };
  // One DynamoDB transaction holds a bounded number of invoices: a plan applies a share, and rounds repeat until
  // nothing more can be applied (each round is complete and consistent on its own).
  const applied: LedgerApplication[] = [];
  for (let more = true; more; ) {
    const round = await withRetries(async () => {
      // Only the open invoices in the currency (or the one named) and the payments holding credit are read.
      const loaded = await loadLedgerForCredits(companyId, client.id, target);
      if (invoiceId && !Object.hasOwn(loaded.state.invoices, invoiceId)) throw ValidationError.field('invoiceId', 'No such invoice of this client.');
      const plan = planCreditApplication(loaded.state, target);
      if (!plan.ok) {
        // A later round finding the invoice paid by the earlier ones is the end, not an error.
        if (applied.length && plan.error.code === 'InvoiceNotOpen') return { applied: [], full: false };
        throw ledgerError(plan.error);
      }
      // A plan stops short of the limit only when nothing more can be applied: then this round is the last.
      const full = plan.changes.invoices.length + plan.changes.transactions.length >= MAX_CREDIT_APPLICATION_CHANGES - 1;
      if (input.preview) return { applied: plan.applied, full };
      const marker = input.alsoWrite && !applied.length ? { extraItems: input.alsoWrite, extraRefused: () => new AlreadyDoneError() } : {};
      if (plan.applied.length) await commitLedger(companyId, client.id, plan.changes, { loaded, today: today(company), ...marker });
      return { applied: plan.applied, full };
    });
    more = round.full;
    if (!round.applied.length) break;
    // A preview plans one round: the rounds after it apply to what it would have left, which it did not write.
    if (input.preview) return round.applied;
    for (const a of round.applied) {
      const seen = applied.find((x) => x.invoiceId === a.invoiceId);
      if (seen) seen.amount += a.amount;
      else applied.push({ ...a });
    }
  }
  return applied;
}

import { RuleViolationError } from '../../domain/errors.js';
import { isUsable, type PaymentAccount } from '../../domain/payment-account.js';
import type { Principal } from '../../domain/principal.js';
import { requireClient } from '../../store/clients.js';
import { requirePaymentAccount, setAutoDebitAccount as writeAutoDebitAccount } from '../../store/payment-accounts.js';

export interface AutoDebitInput {
  companyId: string;
  principal: Principal | null;
  clientId: string;
}

/**
 * Makes one active account the client's auto-debit account (the previous one stops), conditioned on the client as
 * read here: a concurrent change of the client is a `ConcurrentChangeError` and nothing is written. Returns the
 * account as it now stands.
 */
export async function setAutoDebitAccount(input: AutoDebitInput & { accountId: string }): Promise<PaymentAccount> {
  const { companyId } = input;
  const client = await requireClient(companyId, input.clientId);
  const account = await requirePaymentAccount(companyId, client.id, input.accountId);
  if (!isUsable(account)) throw new RuleViolationError('A disabled account cannot be the auto-debit account.', { code: 'account_disabled' });
  await writeAutoDebitAccount(companyId, client, account.id);
  return requirePaymentAccount(companyId, client.id, account.id);
}

/** Stops auto-debit for the client: no account is its auto-debit account any more (same race rule as setting one). */
export async function clearAutoDebitAccount(input: AutoDebitInput): Promise<void> {
  const client = await requireClient(input.companyId, input.clientId);
  await writeAutoDebitAccount(input.companyId, client, null);
}

import type { Principal } from '../../domain/principal.js';
import { requireClient } from '../../store/clients.js';
import { deletePaymentAccount as deleteStoredAccount, requirePaymentAccount } from '../../store/payment-accounts.js';
import { withRetries } from '../../store/retry.js';

export interface DeletePaymentAccountInput {
  companyId: string;
  principal: Principal | null;
  clientId: string;
  accountId: string;
}

/**
 * Deletes an account; if it was the client's auto-debit account, the client is left without one in the same
 * transaction. A race with a change of the auto-debit account is decided again on fresh reads.
 */
export async function deletePaymentAccount(input: DeletePaymentAccountInput): Promise<void> {
  const { companyId, accountId } = input;
  await withRetries(async () => {
    const client = await requireClient(companyId, input.clientId);
    await requirePaymentAccount(companyId, client.id, accountId);
    await deleteStoredAccount(companyId, client, accountId);
  });
}

import { changePaymentAccount, type PaymentAccount, type PaymentAccountChange } from '../../domain/payment-account.js';
import type { Principal } from '../../domain/principal.js';
import { requireCompany } from '../../store/companies.js';
import { assertVersion, nowIso } from '../../store/items.js';
import { replacePaymentAccount, requirePaymentAccount } from '../../store/payment-accounts.js';
import { today } from '../common.js';
import { applyChange } from '../../store/retry.js';

export interface UpdatePaymentAccountInput {
  companyId: string;
  principal: Principal | null;
  clientId: string;
  accountId: string;
  /** The version the caller last read (`If-Match`); the change is refused if the account has moved on. */
  expectedVersion?: number;
  change: PaymentAccountChange;
}

/** Changes the expiry (cards only) or the contact of an account; the card may not end up expired. */
export function updatePaymentAccount(input: UpdatePaymentAccountInput): Promise<PaymentAccount> {
  return applyChange(input.expectedVersion, () => updatePaymentAccountOnce(input));
}

async function updatePaymentAccountOnce(input: UpdatePaymentAccountInput): Promise<PaymentAccount> {
  const { companyId } = input;
  const [current, company] = await Promise.all([requirePaymentAccount(companyId, input.clientId, input.accountId), requireCompany(companyId)]);
  assertVersion(current, input.expectedVersion);
  const next = changePaymentAccount(current, input.change, today(company), nowIso());
  await replacePaymentAccount(companyId, current, next);
  return next;
}

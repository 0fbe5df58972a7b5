import { requireClient } from '../../store/clients.js';
import { readBalances } from '../../store/balances.js';

export interface CreditBalance {
  currency: string;
  amount: number;
}

/** A client's unapplied credit, one entry per currency that has some. */
export async function readCredits(companyId: string, clientId: string): Promise<CreditBalance[]> {
  const [, balances] = await Promise.all([requireClient(companyId, clientId), readBalances(companyId, clientId)]);
  return balances.filter((b) => b.credit > 0).map((b) => ({ currency: b.currency, amount: b.credit }));
}

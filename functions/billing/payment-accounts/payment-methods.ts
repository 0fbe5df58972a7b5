import { GatewayTokenizeError, type PaymentDetails, type TokenizedPaymentMethod } from '../../adapters/gateway/port.js';
import { achProblems, cardProblems } from '../../domain/cards.js';
import { UpstreamError, ValidationError } from '../../domain/errors.js';
import type { PaymentAccount } from '../../domain/payment-account.js';
import { getServices } from '../../services.js';

/**
 * Card and bank details on their way to the gateway, shared by adding an account and paying with new details:
 * checked here, sent to the gateway once, and never kept — only the gateway's token, sealed.
 */

/** Validates card or ACH details (Luhn, expiry, routing checksum); errors name the field under `prefix`, never echo the number. */
export function assertPaymentDetails(details: PaymentDetails, todayDate: string, prefix: string): void {
  const problems = details.type === 'card' ? cardProblems(details.card, todayDate, prefix) : achProblems(details.ach, prefix);
  if (problems.length) throw new ValidationError(problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems);
}

/** Sends the details to the gateway once; what comes back (token, brand, last4) is all Billow keeps. */
export async function tokenize(details: PaymentDetails): Promise<TokenizedPaymentMethod> {
  try {
    return await getServices().gateway.tokenize(details);
  } catch (error) {
    if (error instanceof GatewayTokenizeError) {
      if (error.reason === 'invalid') throw new ValidationError(error.message, [{ path: details.type === 'card' ? 'card' : 'ach', message: error.message }]);
      throw new UpstreamError('The payment gateway could not be reached; try again.');
    }
    throw error;
  }
}

/** Bound to the account, not its client, so the blob still opens after the account moves in a merge. */
const encryptionContext = (companyId: string, accountId: string) => ({ companyId, paymentAccountId: accountId });

/** Seals the gateway token (and an ACH routing number) for the account `accountId`. */
export async function sealPaymentSecret(companyId: string, accountId: string, token: string, routingNumber?: string): Promise<string> {
  return getServices().cipher.encrypt(JSON.stringify({ token, ...(routingNumber ? { routingNumber } : {}) }), encryptionContext(companyId, accountId));
}

/** The gateway token of a stored account, opened for one charge. */
export async function accountToken(companyId: string, account: Pick<PaymentAccount, 'id' | 'secret'>): Promise<string> {
  const plain = await getServices().cipher.decrypt(account.secret, encryptionContext(companyId, account.id));
  return (JSON.parse(plain) as { token: string }).token;
}

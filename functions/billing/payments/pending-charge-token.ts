import { getServices } from '../../services.js';

/**
 * The gateway token of new card or bank details, kept sealed on a pending charge until its outcome is recorded, so
 * the reconciler can replay the charge. Bound to the company and the attempt: a blob copied elsewhere does not open.
 */
const encryptionContext = (companyId: string, transactionId: string) => ({ companyId, transactionId });

export async function sealAttemptToken(companyId: string, transactionId: string, token: string): Promise<string> {
  return getServices().cipher.encrypt(JSON.stringify({ token }), encryptionContext(companyId, transactionId));
}

export async function openAttemptToken(companyId: string, transactionId: string, sealed: string): Promise<string> {
  const plain = await getServices().cipher.decrypt(sealed, encryptionContext(companyId, transactionId));
  return (JSON.parse(plain) as { token: string }).token;
}

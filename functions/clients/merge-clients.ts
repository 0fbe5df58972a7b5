import { actorOf } from '../domain/activity.js';
import { ValidationError } from '../domain/errors.js';
import type { Principal } from '../domain/principal.js';
import { claimMerge, moveClientPartition, releaseMerge } from '../store/client-partition.js';
import { recordActivity } from '../store/client-records.js';
import { getClientsById } from '../store/client-context.js';
import { requireClient } from '../store/clients.js';
import { NotFoundError } from '../domain/errors.js';
import { setAutoDebitAccount } from '../store/payment-accounts.js';
import { withRetries } from '../store/retry.js';
import { deleteClient } from './delete-client.js';

/** Moves everything of `sourceId` into `targetId`, then deletes the source and its login. */
export async function mergeClients(companyId: string, sourceId: string, targetId: string, principal: Principal | null): Promise<void> {
  if (sourceId === targetId) throw ValidationError.field('intoClientId', 'A client cannot be merged into itself.');
  // Both read in one call; a missing source is the 404 it was, a missing target the field's 400.
  const clients = await getClientsById(companyId, [sourceId, targetId]);
  const source = clients.get(sourceId);
  const target = clients.get(targetId);
  if (!source) throw new NotFoundError('No such client.');
  if (!target) throw ValidationError.field('intoClientId', 'No such client.');
  await claimMerge(companyId, source.id, target.id);
  let moved: number;
  try {
    moved = await moveClientPartition(companyId, source.id, target.id);
  } catch (error) {
    await releaseMerge(companyId, source.id, target.id);
    throw error;
  }
  // One auto-debit account per client: the target keeps its own; without one it takes the source's. The one writer
  // of that rule also unflags the moved account, in one transaction with the target's version as read now.
  // Tried first with the target as read above (its version guards the write), then re-read and retried on a lost
  // race: the items have moved, so the merge must finish rather than stop half-way.
  const sourceAutoDebit = source.autoDebitAccountId;
  if (sourceAutoDebit) {
    let read: typeof target | undefined = target;
    await withRetries(async () => {
      const merged = read ?? (await requireClient(companyId, target.id));
      read = undefined;
      await setAutoDebitAccount(companyId, merged, merged.autoDebitAccountId ?? sourceAutoDebit);
    });
  }
  await recordActivity(companyId, target.id, actorOf(principal), 'client.merged', { fromClientId: source.id, fromNumber: source.number, itemsMoved: moved });
  await deleteClient(companyId, source);
}

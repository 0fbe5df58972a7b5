import type { Client } from '../domain/client.js';
import { getServices } from '../services.js';
import { deleteClientPartition } from '../store/client-partition.js';

/** Permanently deletes a client, everything it owns and its login. */
export async function deleteClient(companyId: string, client: Client): Promise<void> {
  await deleteClientPartition(companyId, client.id);
  if (client.username && client.userId) await getServices().identity.deleteUser(companyId, client.username);
}

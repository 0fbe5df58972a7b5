import type { Client } from '../domain/client.js';
import type { Company } from '../domain/company.js';
import { resolveSettings, type GroupSettings } from '../domain/settings.js';
import { batchGetAll } from '../store/dynamo.js';
import { clientFromItem } from '../store/clients.js';
import { requireCompany } from '../store/companies.js';
import { listGroups } from '../store/groups.js';
import { clientPk, clientSk } from '../store/keys.js';
import type { Group } from '../domain/group.js';

/**
 * What one page of a run reads once: the company, every group's effective settings (a company has few groups), and
 * the clients the page's due work belongs to, in one batch. Only clients with something due are ever read.
 */
export interface CompanyView {
  company: Company;
  /** The settings of a client's group (the company's values where the group has no override or is unknown). */
  settingsOf(groupId: string): GroupSettings;
  /** The largest value of a numeric setting over the company and every group: how far ahead an index is read. */
  widest(pick: (settings: GroupSettings) => number | 'never'): number | null;
}

export async function loadCompanyView(companyId: string): Promise<CompanyView> {
  const company = await requireCompany(companyId);
  const groups: Group[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await listGroups(companyId, 100, startKey);
    groups.push(...page.items);
    startKey = page.lastKey;
  } while (startKey);
  const byId = new Map(groups.map((g) => [g.id, resolveSettings(company.groupSettings, g.settings)] as const));
  const all = [company.groupSettings, ...byId.values()];
  return {
    company,
    settingsOf: (groupId) => byId.get(groupId) ?? company.groupSettings,
    widest(pick) {
      const values = all.map(pick).filter((v): v is number => v !== 'never');
      return values.length ? Math.max(...values) : null;
    },
  };
}

/** The clients of a page's work, by id, read in one batch; a deleted client is absent. */
export async function loadClients(companyId: string, clientIds: Iterable<string>): Promise<Map<string, Client>> {
  const ids = [...new Set(clientIds)];
  if (!ids.length) return new Map();
  const items = await batchGetAll(
    ids.map((id) => ({ PK: clientPk(companyId, id), SK: clientSk })),
    { consistent: true },
  );
  return new Map(items.map(clientFromItem).map((c) => [c.id, c] as const));
}

/** Inactive and fraud clients get no automatic invoices, charges, emails, suspensions or voids. */
export const isAutomated = (client: Client | undefined): client is Client => client?.status === 'active';

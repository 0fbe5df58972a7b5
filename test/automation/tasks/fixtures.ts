import type { OutgoingEmail } from '../../../functions/adapters/mailer/port.js';
import { createInvoice } from '../../../functions/billing/invoices/create-invoice.js';
import type { RunContext } from '../../../functions/automation/task.js';
import type { WorkSource } from '../../../functions/automation/task.js';
import type { Client } from '../../../functions/domain/client.js';
import { newCompany, type Company } from '../../../functions/domain/company.js';
import { newDefaultGroup, newGroup } from '../../../functions/domain/group.js';
import { newId } from '../../../functions/domain/ids.js';
import type { Invoice } from '../../../functions/domain/invoice.js';
import { DEFAULT_GROUP_SETTINGS, type GroupOverrides, type GroupSettings } from '../../../functions/domain/settings.js';
import { getServices, overrideServices } from '../../../functions/services.js';
import { putNewCompany } from '../../../functions/store/companies.js';
import { putNewGroup } from '../../../functions/store/groups.js';
import { listMailEntries, type MailEntry } from '../../../functions/store/mail.js';
import { seedClient } from '../../billing/invoices/fixtures.js';

export { seedClient };

const NOW = '2030-01-01T00:00:00.000Z';

/**
 * A company written straight to the store with these group settings (over the defaults, notices off unless given),
 * USD and EUR, no tax.
 */
export async function seedCompanyWith(settings: Partial<GroupSettings> = {}): Promise<Company> {
  const group = newDefaultGroup(newId('grp'), NOW);
  const base = newCompany({ id: newId('co'), name: 'Automation Test Co', defaultCurrency: 'USD', timeZone: 'America/New_York', defaultGroupId: group.id }, NOW);
  const company: Company = {
    ...base,
    own: { ...base.own, currencies: ['USD', 'EUR'] },
    groupSettings: { ...DEFAULT_GROUP_SETTINGS, paymentDueNotices: { ...DEFAULT_GROUP_SETTINGS.paymentDueNotices, enabled: false }, ...settings },
  };
  await putNewCompany(company, group);
  return company;
}

/** Another group of the company, with its own overrides. */
export async function seedGroup(company: Company, settings: GroupOverrides): Promise<string> {
  const id = newId('grp');
  const group = newGroup(id, { name: `Group ${id}`, description: null, color: null, settings }, NOW);
  await putNewGroup(company.id, group);
  return group.id;
}

/** An open invoice of one untaxed line, billed and due on the dates given. */
export async function openInvoice(
  company: Company,
  client: Client,
  amount: number,
  dateDue: string,
  fields: { currency?: string; dateBilled?: string } = {},
): Promise<Invoice> {
  const { invoice } = await createInvoice({
    companyId: company.id,
    clientId: client.id,
    currency: fields.currency,
    dateBilled: fields.dateBilled ?? (dateDue < '2027-01-01' ? dateDue : '2027-01-01'),
    dateDue,
    lines: [{ description: 'Work', quantity: 1, unitAmount: amount, taxable: false }],
  });
  return invoice;
}

export const runOn = (company: Company, date: string, dryRun = false): RunContext => ({ companyId: company.id, runId: newId('run'), date, dryRun });

/** Every page of a source for one run, as the engine would loop it (a small page size to cross pages). */
export async function runAll(source: WorkSource, ctx: RunContext, limit = 100) {
  const pages = [];
  let key: string | null = null;
  do {
    const page = await source.page(ctx, key, limit);
    pages.push(page);
    key = page.nextKey;
  } while (key);
  return {
    examined: pages.reduce((n, p) => n + p.examined, 0),
    acted: pages.reduce((n, p) => n + p.acted, 0),
    failed: pages.reduce((n, p) => n + p.failed, 0),
    actions: pages.flatMap((p) => p.actions),
  };
}

/** The client's mail log, oldest first. */
export async function mailOf(company: Company, clientId: string): Promise<MailEntry[]> {
  const page = await listMailEntries(company.id, clientId, 100);
  return [...page.items].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
}

/** A mailer that keeps what it is given (in place of the real one until `restore`), and the mails so far. */
export function captureMail(): { sent: OutgoingEmail[]; restore: () => void } {
  const real = getServices().mailer;
  const sent: OutgoingEmail[] = [];
  overrideServices({
    mailer: {
      send: async (message) => {
        sent.push(message);
        return { messageId: `msg-${sent.length}` };
      },
    },
  });
  return { sent, restore: () => overrideServices({ mailer: real }) };
}

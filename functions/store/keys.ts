/**
 * Every key of the single table, in one place. The README's access-pattern table is written from this file:
 * change one, change the other.
 *
 * Partitions:
 * - `CO#<co>`                       the company: its item, settings, groups, counters, packages
 * - `CO#<co>#CL#<cl>`               everything one client owns (profile, contacts, notes, money, services, mail, activity)
 * - `CO#<co>#REF#<id>`              pointer from a bare object id (invoice, transaction, …) to its client
 * - `CO#<co>#UQ#<kind>#<value>`     uniqueness markers (email, username, client number, invoice number)
 * - `CO#<co>#CLX#<sort>`            client list index, one partition per sort order
 * - `CO#<co>#CLQ`                   client search terms (prefixes of names, company, email, number)
 * - `CO#<co>#GRPM#<grp>`            client-group membership
 * - `CO#<co>#IDEM#<key>`            idempotency records (TTL 24 h)
 * - `PWT#<hash>`                    one-time set-password tokens (TTL)
 * - `LOGINAS#<pool user>`           one-time staff "login as" answers of a Cognito pool user (TTL)
 * - `CO#<co>#IMPORTS`               the company's client imports, newest first, and markers of dropped files
 * - `CO#<co>#IMP#<imp>`             one import's chunks, per-row outcome markers and error rows
 * Index partitions (sparse: only items that are due carry the keys):
 * - GSI2 `CO#<co>#OPENDUE`, `CO#<co>#RINVDUE`, `CO#<co>#SVCDUE`: open invoices, recurring series, services to renew;
 *   GSI2 `CO#<co>#CREDITS`: payments holding unapplied credit
 * - GSI1 `CO#<co>#SVCAUTOSUSP`: services the automation suspended (GSI2 holds their renewal entry)
 * - GSI3/GSI4/GSI5 `<client list or search partition>#S#<status>`, `…#G#<grp>`, `…#G#<grp>#S#<status>`: filtered client lists
 * - GSI3 `CO#<co>#CL#<cl>#INVS#<status>`, GSI4 `CO#<co>#INVS#<status>`, GSI5 `CO#<co>#CL#<cl>#INVD`: invoices by status
 *   (a client's, a company's) and a client's by due date; GSI3 `CO#<co>#CL#<cl>#CREDIT#<cur>`: payments holding credit
 */
export const companyPk = (companyId: string) => `CO#${companyId}`;
export const companySk = 'COMPANY';
export const companiesListPk = 'COMPANIES';

export const counterSk = (name: string) => `COUNTER#${name}`;

export const groupSk = (groupId: string) => `GROUP#${groupId}`;
export const GROUP_SK_PREFIX = 'GROUP#';

export const clientPk = (companyId: string, clientId: string) => `CO#${companyId}#CL#${clientId}`;
export const clientSk = 'CLIENT';
export const contactSk = (contactId: string) => `CONTACT#${contactId}`;
export const CONTACT_SK_PREFIX = 'CONTACT#';
export const noteSk = (noteId: string) => `NOTE#${noteId}`;
export const NOTE_SK_PREFIX = 'NOTE#';
export const activitySk = (at: string, id: string) => `ACT#${at}#${id}`;
export const ACTIVITY_SK_PREFIX = 'ACT#';

/**
 * LSI1 sort keys of the profile view: the client first, then balances, then sticky notes newest first. (An invoice is
 * never in LSI1: with the index's ALL projection a large invoice would no longer fit DynamoDB's item size limit.)
 */
export const PROFILE_VIEW_CLIENT = '0#CLIENT';
/** Every profile-view key sorts before this. */
export const PROFILE_VIEW_END = '3';
export const profileViewBalance = (currency: string) => `1#BAL#${currency}`;
export const profileViewStickyNote = (createdAt: string, noteId: string) => `2#NOTE#${invertTimestamp(createdAt)}#${noteId}`;

export const refPk = (companyId: string, objectId: string) => `CO#${companyId}#REF#${objectId}`;
export const refSk = 'REF';

export const uniquePk = (companyId: string, kind: string, value: string) => `CO#${companyId}#UQ#${kind}#${value}`;
export const uniqueSk = 'UQ';

export const clientListPk = (companyId: string, sort: string) => `CO#${companyId}#CLX#${sort}`;
export const clientSearchPk = (companyId: string) => `CO#${companyId}#CLQ`;

/**
 * Filtered client lists and searches. Each list entry (one per sort order) and each search entry is also in three
 * index partitions named after its own partition (`indexPk`, a `clientListPk` or the `clientSearchPk`) and under
 * the same sort key: GSI3 `<indexPk>#S#<status>`, GSI4 `<indexPk>#G#<group>`, GSI5 `<indexPk>#G#<group>#S#<status>`.
 * A filtered page reads only entries that pass the filter, however many clients the company has.
 */
export const clientIndexByStatusPk = (indexPk: string, status: string) => `${indexPk}#S#${status}`;
export const clientIndexByGroupPk = (indexPk: string, groupId: string) => `${indexPk}#G#${groupId}`;
export const clientIndexByGroupAndStatusPk = (indexPk: string, groupId: string, status: string) => `${indexPk}#G#${groupId}#S#${status}`;

/** The GSI3–GSI5 keys of a client list or search entry (`indexPk`/`sk` its own keys). */
export function clientIndexFilterKeys(indexPk: string, sk: string, c: { status: string; groupId: string }) {
  return {
    GSI3PK: clientIndexByStatusPk(indexPk, c.status),
    GSI3SK: sk,
    GSI4PK: clientIndexByGroupPk(indexPk, c.groupId),
    GSI4SK: sk,
    GSI5PK: clientIndexByGroupAndStatusPk(indexPk, c.groupId, c.status),
    GSI5SK: sk,
  };
}

/** Which index and partition hold the entries of `indexPk` that pass a filter; none without a filter (read `indexPk` itself). */
export function clientIndexFilter(indexPk: string, filter: { status?: string; groupId?: string }): { index: 'GSI3' | 'GSI4' | 'GSI5'; pk: string } | undefined {
  if (filter.status !== undefined && filter.groupId !== undefined) {
    return { index: 'GSI5', pk: clientIndexByGroupAndStatusPk(indexPk, filter.groupId, filter.status) };
  }
  if (filter.status !== undefined) return { index: 'GSI3', pk: clientIndexByStatusPk(indexPk, filter.status) };
  if (filter.groupId !== undefined) return { index: 'GSI4', pk: clientIndexByGroupPk(indexPk, filter.groupId) };
  return undefined;
}
export const groupMemberPk = (companyId: string, groupId: string) => `CO#${companyId}#GRPM#${groupId}`;

export const idempotencyPk = (scope: string, keyHash: string) => `CO#${scope}#IDEM#${keyHash}`;
export const idempotencySk = 'IDEM';

export const passwordTokenPk = (tokenHash: string) => `PWT#${tokenHash}`;
export const passwordTokenSk = 'PWT';

/** The Cognito adapter writes the answer and its verify-auth-challenge trigger takes it (see adapters/identity/login-as.ts). */
export const loginAsPk = (poolUsername: string) => `LOGINAS#${poolUsername}`;
export const loginAsSk = 'LOGINAS';

/** Makes newer timestamps sort first in an ascending index. */
export function invertTimestamp(iso: string): string {
  const ms = Date.parse(iso);
  return String(9_999_999_999_999 - ms).padStart(13, '0');
}

/** Billing items in the client partition. */
export const invoiceSk = (invoiceId: string) => `INV#${invoiceId}`;
export const INVOICE_SK_PREFIX = 'INV#';
export const transactionSk = (transactionId: string) => `TXN#${transactionId}`;
export const TRANSACTION_SK_PREFIX = 'TXN#';
export const paymentAccountSk = (accountId: string) => `PA#${accountId}`;
export const PAYMENT_ACCOUNT_SK_PREFIX = 'PA#';
export const recurringInvoiceSk = (id: string) => `RINV#${id}`;
export const RECURRING_SK_PREFIX = 'RINV#';
export const balanceSk = (currency: string) => `BAL#${currency}`;
export const serviceSk = (serviceId: string) => `SVC#${serviceId}`;
export const SERVICE_SK_PREFIX = 'SVC#';

/** Packages live in the company partition (a company has a catalogue of tens, not millions). */
export const packageSk = (packageId: string) => `PKG#${packageId}`;
export const PACKAGE_SK_PREFIX = 'PKG#';
export const BALANCE_SK_PREFIX = 'BAL#';

/** GSI1: every invoice of a company by due date (the status filter is applied to the page). */
export const invoicesByDuePk = (companyId: string) => `CO#${companyId}#INV`;
export const invoicesByDueSk = (dateDue: string, invoiceId: string) => `${dateDue}#${invoiceId}`;
/** GSI2 (sparse): open invoices by due date, for auto-debit, notices, suspensions and voids. */
export const openInvoicesPk = (companyId: string) => `CO#${companyId}#OPENDUE`;
export const openInvoiceDueSk = (dateDue: string, invoiceId: string) => `${dateDue}#${invoiceId}`;
/**
 * GSI3: a client's invoices of one status by due date (`GET /v1/invoices?clientId=&status=`, a client's open invoices
 * for credits and the automation); GSI4: a company's invoices of one status by due date (`?status=` without a
 * client). Every invoice carries both, rewritten with its status in the same write. The GSI3 key names the client's
 * partition, so a merge rewrites it (store/client-partition.ts, `clientIndexKeys`).
 */
export const clientInvoicesByStatusPk = (companyId: string, clientId: string, status: string) => `${clientPk(companyId, clientId)}#INVS#${status}`;
export const invoicesByStatusPk = (companyId: string, status: string) => `CO#${companyId}#INVS#${status}`;
export const invoiceStatusIndexKeys = (companyId: string, invoice: { id: string; clientId: string; status: string; dateDue: string }) => ({
  GSI3PK: clientInvoicesByStatusPk(companyId, invoice.clientId, invoice.status),
  GSI3SK: invoicesByDueSk(invoice.dateDue, invoice.id),
  GSI4PK: invoicesByStatusPk(companyId, invoice.status),
  GSI4SK: invoicesByDueSk(invoice.dateDue, invoice.id),
});
/** GSI5: a client's invoices by due date (`GET /v1/invoices?clientId=&dueBefore=` without a status). */
export const clientInvoicesByDuePk = (companyId: string, clientId: string) => `${clientPk(companyId, clientId)}#INVD`;
export const clientInvoiceDueIndexKeys = (companyId: string, invoice: { id: string; clientId: string; dateDue: string }) => ({
  GSI5PK: clientInvoicesByDuePk(companyId, invoice.clientId),
  GSI5SK: invoicesByDueSk(invoice.dateDue, invoice.id),
});
/**
 * GSI3 (sparse): a client's payments holding unapplied credit in one currency, oldest first (credits/apply); GSI2
 * (sparse): the same payments of the whole company, oldest first (the automation's applyCredits: only clients with
 * credit are looked at). The GSI2 key names no client (the item's `clientId` does), so a merge leaves it as it is.
 */
export const clientCreditsPk = (companyId: string, clientId: string, currency: string) => `${clientPk(companyId, clientId)}#CREDIT#${currency}`;
export const companyCreditsPk = (companyId: string) => `CO#${companyId}#CREDITS`;
export const creditIndexKeys = (
  companyId: string,
  t: { id: string; clientId: string; currency: string; credit: number; date: string; hasMoney: boolean },
): { GSI3PK: string; GSI3SK: string; GSI2PK: string; GSI2SK: string } | undefined =>
  t.hasMoney && t.credit > 0
    ? {
        GSI3PK: clientCreditsPk(companyId, t.clientId, t.currency),
        GSI3SK: `${t.date}#${t.id}`,
        GSI2PK: companyCreditsPk(companyId),
        GSI2SK: `${t.date}#${t.id}`,
      }
    : undefined;

/**
 * Statement entries (`STMT#<cur>#<sortKey>`): one per statement line, written with the effect that makes it, keyed
 * by date then the order the statement lists same-day lines in (domain/statement.ts `StatementEntry.key`). Running
 * sums per year (`STMTYR#<cur>#<yyyy>`: `amount`, and one attribute a month, `m01`…`m12`) and per month
 * (`STMTMON#<cur>#<yyyy-mm>`: `amount`, and one a day, `day01`…`day31`), `ADD`ed in the same transaction and summed
 * on merge, give an opening balance without reading the history before the period.
 */
export const statementEntrySk = (currency: string, entryKey: string) => `STMT#${currency}#${entryKey}`;
export const statementEntryPrefix = (currency: string) => `STMT#${currency}#`;
export const STATEMENT_ENTRY_SK_PREFIX = 'STMT#';
export const statementMonthSk = (currency: string, month: string) => `STMTMON#${currency}#${month}`;
export const statementYearSk = (currency: string, year: string) => `STMTYR#${currency}#${year}`;
export const STATEMENT_MONTH_SK_PREFIX = 'STMTMON#';
export const STATEMENT_YEAR_SK_PREFIX = 'STMTYR#';

/** GSI2 (sparse): recurring invoices by next billing date. */
export const recurringDuePk = (companyId: string) => `CO#${companyId}#RINVDUE`;
export const recurringDueSk = (nextBillDate: string, recurringId: string) => `${nextBillDate}#${recurringId}`;

/** GSI2 (sparse): services that can renew (active or suspended, not one-time) by the date of their next period to invoice. */
export const servicesDuePk = (companyId: string) => `CO#${companyId}#SVCDUE`;
export const serviceDueSk = (nextInvoiceDate: string, serviceId: string) => `${nextInvoiceDate}#${serviceId}`;
/** GSI1 (sparse): services suspended by the automation, which alone it may unsuspend, by suspension date. */
export const autoSuspendedPk = (companyId: string) => `CO#${companyId}#SVCAUTOSUSP`;
export const autoSuspendedSk = (suspendedOn: string, serviceId: string) => `${suspendedOn}#${serviceId}`;

/** The index keys of a service: its next renewal in GSI2 while it can renew, in GSI1 while the automation suspended it. */
export function serviceIndexKeys(
  companyId: string,
  service: { id: string; nextInvoiceDate: string | null; suspendedBy: string | null; suspendedOn: string | null },
): { GSI1PK?: string; GSI1SK?: string; GSI2PK?: string; GSI2SK?: string } {
  return {
    ...(service.nextInvoiceDate ? { GSI2PK: servicesDuePk(companyId), GSI2SK: serviceDueSk(service.nextInvoiceDate, service.id) } : {}),
    ...(service.suspendedBy === 'automation' && service.suspendedOn
      ? { GSI1PK: autoSuspendedPk(companyId), GSI1SK: autoSuspendedSk(service.suspendedOn, service.id) }
      : {}),
  };
}

/** The GSI2 keys of an invoice: only open invoices carry them (the index holds exactly the work that may be due). */
export function openInvoiceIndexKeys(
  companyId: string,
  invoice: { id: string; status: string; dateDue: string },
): { GSI2PK: string; GSI2SK: string } | undefined {
  return invoice.status === 'open' ? { GSI2PK: openInvoicesPk(companyId), GSI2SK: openInvoiceDueSk(invoice.dateDue, invoice.id) } : undefined;
}

/** The GSI2 keys of a recurring series: only active series with a next billing date carry them. */
export function recurringDueIndexKeys(
  companyId: string,
  series: { id: string; status: string; nextBillDate: string | null },
): { GSI2PK: string; GSI2SK: string } | undefined {
  return series.status === 'active' && series.nextBillDate
    ? { GSI2PK: recurringDuePk(companyId), GSI2SK: recurringDueSk(series.nextBillDate, series.id) }
    : undefined;
}

/** Mail log (see `mail.ts` for the item layout): entries, message-id pointers, templates (and their oversized parts), suppressions. */
export const MAIL_SK_PREFIX = 'MAIL#';
export const mailSk = (mailId: string) => `${MAIL_SK_PREFIX}${mailId}`;
/** Blob-store (S3) keys of a mail's body and attachments when they do not fit in its entry. */
export const mailBodyKey = (companyId: string, mailId: string) => `mail/${companyId}/${mailId}/body.json`;
export const mailAttachmentKey = (companyId: string, mailId: string, index: number) => `mail/${companyId}/${mailId}/attachments/${index}`;
/**
 * Blob-store key of a clients export too large to answer inline (`functions/clients/export-clients.ts`): a random
 * segment per export, so its presigned link names only that file. Kept a day (the bucket's lifecycle).
 */
export const clientExportKey = (companyId: string, exportId: string, filename: string) => `exports/${companyId}/${exportId}/${filename}`;

export const sesMessagePk = (messageId: string) => `SESMSG#${messageId}`;
export const sesMessageSk = 'SESMSG';

export const TEMPLATE_SK_PREFIX = 'TEMPLATE#';
export const templateSk = (name: string) => `${TEMPLATE_SK_PREFIX}${name}`;
export const templatePartSk = (name: string, generation: string, part: number) => `TEMPLATEPART#${name}#${generation}#${padPart(part)}`;

export const suppressionPk = (companyId: string, email: string) => `CO#${companyId}#SUPPRESS#${email.trim().toLowerCase()}`;
export const suppressionSk = 'SUPPRESS';

function padPart(n: number): string {
  return String(n).padStart(4, '0');
}

/**
 * A payment attempt recorded before its charge (`PENDCHG#<txn>` in the client partition) keeps what the request
 * asked for until the outcome is recorded, and only while it exists carries GSI2 keys in one company-independent
 * partition ordered by creation, so the reconciler finds stale attempts of every company with one Query.
 */
export const PENDING_CHARGE_SK_PREFIX = 'PENDCHG#';
export const pendingChargeSk = (transactionId: string) => `${PENDING_CHARGE_SK_PREFIX}${transactionId}`;
export const PENDING_CHARGES_INDEX_PK = 'PENDINGTXN';
export const pendingChargeIndexSk = (createdAt: string, companyId: string, transactionId: string) => `${createdAt}#${companyId}#${transactionId}`;

/**
 * Once-markers of the daily automation (store/once.ts): one item per (task, object, period) in the partition of the
 * client the object belongs to, written in the same transaction as the effect it guards — so a merge carries them
 * with the object (its id is in the key, not the client's) and deleting the client deletes them.
 */
export const ONCE_SK_PREFIX = 'ONCE#';
export const onceSk = (objectId: string, task: string, period: string) => `${ONCE_SK_PREFIX}${objectId}#${task}#${period}`;

/**
 * Automation runs (store/automation-runs.ts). A company's runs share one partition, newest first by their
 * time-ordered ids; it also holds the company's run lock (one item: a run queued or running) and the markers of the
 * scheduled runs already started, one per local date. What one run did lives in the run's own partition: a record
 * per page (so a retried page is counted once) and a row per action, in task and page order.
 */
export const runsPk = (companyId: string) => `CO#${companyId}#RUNS`;
export const runSk = (runId: string) => `RUN#${runId}`;
export const RUN_SK_PREFIX = 'RUN#';
export const runLockSk = 'LOCK';
export const scheduledRunSk = (date: string) => `SCHED#${date}`;
export const runPartitionPk = (companyId: string, runId: string) => `CO#${companyId}#RUN#${runId}`;
export const runPageSk = (task: string, source: number, cursorHash: string) => `PAGE#${task}#${source}#${cursorHash}`;
/** The index entries a page of a source read first (its key hashed): a replay of the page reads them again. */
export const runListingSk = (source: string, keyHash: string) => `LISTING#${source}#${keyHash}`;
export const RUN_ACTION_SK_PREFIX = 'ACTION#';
/** Task index, page number within the task, action number within the page: the order the run did them in. */
export const runActionSk = (taskIndex: number, page: number, n: number) =>
  `${RUN_ACTION_SK_PREFIX}${String(taskIndex).padStart(2, '0')}#${String(page).padStart(6, '0')}#${String(n).padStart(5, '0')}`;

/**
 * Client imports (store/imports.ts). A company's imports share one partition (`CO#<co>#IMPORTS`), newest first by
 * their time-ordered ids, with a marker per object dropped into the bucket (so a redelivered S3 event makes no second
 * import). What one import did lives in its own partition (`CO#<co>#IMP#<imp>`): a chunk item per byte range of the
 * file (its checkpoint and counts), a marker per data row holding its outcome (written in the same transaction as
 * the client it created or updated, so a row is never imported twice), and an error item per problem, by row.
 */
export const importsPk = (companyId: string) => `CO#${companyId}#IMPORTS`;
export const IMPORT_SK_PREFIX = 'IMP#';
export const importSk = (importId: string) => `${IMPORT_SK_PREFIX}${importId}`;
export const importDropSk = (objectHash: string) => `DROP#${objectHash}`;
export const importPartitionPk = (companyId: string, importId: string) => `CO#${companyId}#IMP#${importId}`;
export const importChunkSk = (chunk: number) => `CHUNK#${String(chunk).padStart(6, '0')}`;
export const IMPORT_ROW_SK_PREFIX = 'ROW#';
export const importRowSk = (row: number) => `${IMPORT_ROW_SK_PREFIX}${String(row).padStart(10, '0')}`;
export const IMPORT_ERROR_SK_PREFIX = 'ERR#';
export const importErrorSk = (row: number, n: number) => `${IMPORT_ERROR_SK_PREFIX}${String(row).padStart(10, '0')}#${String(n).padStart(3, '0')}`;

/**
 * Failed logins (store/login-throttle.ts): one item per login (`<co>` or `OPERATOR`, and the username's hash) and one
 * per source address (its hash), counting failures in a row and when the login or source is shut until. TTL: the
 * quarter hour after which failures are forgotten.
 */
export const loginThrottlePk = (scope: string, usernameHash: string) => `LOGINTHR#${scope}#${usernameHash}`;
export const sourceThrottlePk = (addressHash: string) => `LOGINTHR#SOURCE#${addressHash}`;
export const loginThrottleSk = 'LOGINTHR';

import { randomUUID } from 'node:crypto';
import type { ClientStatus } from '../domain/client.js';
import { todayIn } from '../domain/dates.js';
import { exportClientsCsv, type ExportedClient } from '../imports/export-csv.js';
import { getServices } from '../services.js';
import { listClients } from '../store/clients.js';
import { requireCompany } from '../store/companies.js';
import { getGroups } from '../store/groups.js';
import { clientExportKey } from '../store/keys.js';

/**
 * `GET /v1/clients/export`: every client of the company as the CSV of `functions/imports/export-csv.ts`, read a page
 * at a time from the client list index (by number). A Lambda's answer through API Gateway is at most 6 MB, so a file
 * that outgrows `EXPORT_INLINE_BYTES` is not answered inline: it is streamed to the blob store (one multipart part in
 * memory at a time) and the caller is sent to a short-lived link to it, as Stripe hands out its exports as files.
 */

export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8';

/**
 * The largest CSV answered inline, counted as the Lambda response carries it (a JSON string: quotes, CR and LF are
 * escaped): 5 MiB leaves the 6 MB response limit room for the envelope and headers. About 20,000 clients.
 */
export const EXPORT_INLINE_BYTES = 5 * 1024 * 1024;

/** How long the link to a large export works; the route redirects to it at once. */
export const EXPORT_LINK_SECONDS = 15 * 60;

/** Clients read per page (a BatchGetItem's worth). */
const PAGE_SIZE = 100;

let inlineLimit = EXPORT_INLINE_BYTES;

/** Tests make a small export take the large-file path; no argument restores the real limit. */
export function setExportInlineLimit(bytes?: number): void {
  inlineLimit = bytes ?? EXPORT_INLINE_BYTES;
}

export interface ExportClientsFilters {
  status?: ClientStatus;
  groupId?: string;
}

/** The CSV itself, or (too large to answer inline) where to fetch it. */
export type ClientsExport = { kind: 'inline'; filename: string; csv: string } | { kind: 'file'; filename: string; url: string };

/** The company's clients in number order with their group names, a page at a time; each group is read once. */
async function* exportedClients(companyId: string, filters: ExportClientsFilters): AsyncGenerator<ExportedClient> {
  const groupNames = new Map<string, string | null>();
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await listClients(companyId, { sort: 'number', descending: false, ...filters, limit: PAGE_SIZE, startKey });
    const unseen = [...new Set(page.items.map((c) => c.groupId))].filter((id) => !groupNames.has(id));
    if (unseen.length) {
      const found = new Map((await getGroups(companyId, unseen)).map((g) => [g.id, g.name]));
      for (const id of unseen) groupNames.set(id, found.get(id) ?? null);
    }
    for (const client of page.items) yield { client, groupName: groupNames.get(client.groupId) ?? null };
    startKey = page.lastKey;
  } while (startKey);
}

/** The bytes of the file: what was read before the limit was passed, then the rest as it is read. */
async function* fileBytes(head: string[], rest: AsyncIterator<string>): AsyncGenerator<Buffer> {
  yield Buffer.from(head.join(''), 'utf8');
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield Buffer.from(next.value, 'utf8');
}

/** Exports the company's clients (optionally only those of a status or a group). */
export async function exportClients(companyId: string, filters: ExportClientsFilters = {}): Promise<ClientsExport> {
  const company = await requireCompany(companyId);
  const filename = `clients-${todayIn(company.own.timeZone)}.csv`;
  const lines = exportClientsCsv(exportedClients(companyId, filters));
  const head: string[] = [];
  let responseBytes = 0;
  for (;;) {
    const next = await lines.next();
    if (next.done) return { kind: 'inline', filename, csv: head.join('') };
    head.push(next.value);
    responseBytes += Buffer.byteLength(JSON.stringify(next.value), 'utf8') - 2;
    if (responseBytes > inlineLimit) break;
  }
  const key = clientExportKey(companyId, randomUUID(), filename);
  const { blobs } = getServices();
  await blobs.putStream(key, fileBytes(head, lines), CSV_CONTENT_TYPE);
  const url = await blobs.downloadUrl(key, { filename, contentType: CSV_CONTENT_TYPE, expiresInSeconds: EXPORT_LINK_SECONDS });
  return { kind: 'file', filename, url };
}

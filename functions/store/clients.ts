import { DeleteCommand, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  isFirstMatch,
  searchFold,
  searchTerms,
  sortValue,
  SORT_INDEXES,
  type BalanceTotals,
  type Client,
  type ClientStatus,
  type SearchField,
  type SortIndex,
} from '../domain/client.js';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.js';
import type { Note } from '../domain/note.js';
import { noteFromItem } from './client-records.js';
import { batchGetAll, db, queryPage, tableName, transact, type Page, type TransactItem } from './dynamo.js';
import { isConditionFailure, nowIso } from './items.js';
import { retryWhile } from './retry.js';
import { writeNumbered } from './counters.js';
import { clientWritableCondition } from './client-guard.js';
import {
  clientIndexFilter,
  clientIndexFilterKeys,
  clientListPk,
  clientPk,
  clientSearchPk,
  clientSk,
  companyPk,
  groupMemberPk,
  groupSk,
  PROFILE_VIEW_CLIENT,
  PROFILE_VIEW_END,
  uniquePk,
  uniqueSk,
} from './keys.js';
import { setAttributes, type EveryField, type StoredItem } from './mapping.js';

const SEP = '\u0001';
type Key = { PK: string; SK: string };

/**
 * DynamoDB refuses a sort key (or a key-condition value) over 1,024 bytes, and folding can grow a name many times
 * (NFKD turns U+FDFA into 18 characters): list sort values and search terms are cut, at a code point, to this many
 * UTF-8 bytes, leaving room for the separators, the field name and the client id. The search `q` is cut the same
 * way, so a cut `q` is still a prefix of every cut term it was a prefix of.
 */
const KEY_VALUE_MAX_BYTES = 960;
export function fitKeyValue(value: string): string {
  if (Buffer.byteLength(value, 'utf8') <= KEY_VALUE_MAX_BYTES) return value;
  let out = '';
  let bytes = 0;
  for (const ch of value) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (bytes + size > KEY_VALUE_MAX_BYTES) break;
    out += ch;
    bytes += size;
  }
  return out;
}

type UniqueField = 'email' | 'username' | 'number';

/**
 * An entry of a client index: a list order, the search terms or a group's members. A list or search entry is also
 * in the GSI3–GSI5 partitions of its status and group (keys.ts `clientIndexFilterKeys`), so a filtered page reads
 * only the entries that pass the filter. A search entry carries `firstMatchFrom`, so a client matching several
 * terms is listed once (entries written before it carry all of the client's (term, field) `pairs` instead).
 */
interface IndexEntry extends Key {
  entity: 'clientIndex';
  clientId: string;
  status: ClientStatus;
  groupId: string;
  term?: string;
  field?: SearchField;
  firstMatchFrom?: number;
  pairs?: Array<[string, SearchField]>;
  GSI3PK?: string;
  GSI3SK?: string;
  GSI4PK?: string;
  GSI4SK?: string;
  GSI5PK?: string;
  GSI5SK?: string;
}

/** Claims a unique value (email, username, number) for one client in the company. */
interface UniqueMarker extends Key {
  entity: 'unique';
  ownerId: string;
  field: UniqueField;
}

type ExternalItem = IndexEntry | UniqueMarker;

const uniqueMarker = (companyId: string, field: UniqueField, value: string, ownerId: string): UniqueMarker => ({
  PK: uniquePk(companyId, field, value),
  SK: uniqueSk,
  entity: 'unique',
  ownerId,
  field,
});

const comparePairs = ([ta, fa]: readonly [string, string], [tb, fb]: readonly [string, string]) =>
  ta < tb ? -1 : ta > tb ? 1 : fa < fb ? -1 : fa > fb ? 1 : 0;

function sharedPrefixLength(a: string, b: string): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

/**
 * The shortest `q` for which a search entry is its client's first match (domain `isFirstMatch`): one more than the
 * longest prefix its term shares with a (term, field) pair of the client sorting before it, since a `q` that short
 * also starts that pair's term (0 for the client's first pair). Unlike the pairs themselves it changes only when
 * such a prefix does, so renaming one field rewrites the entries of that field alone.
 */
export function firstMatchFrom(pairs: ReadonlyArray<readonly [string, string]>, term: string, field: string): number {
  let shared = -1;
  for (const pair of pairs) if (comparePairs(pair, [term, field]) < 0) shared = Math.max(shared, sharedPrefixLength(pair[0], term));
  return shared + 1;
}

/** Whether a search entry is its client's first match for `q` (folded and cut), read from either layout. */
function isFirstMatchOf(entry: IndexEntry, q: string): boolean {
  if (entry.firstMatchFrom !== undefined) return q.length >= entry.firstMatchFrom;
  return isFirstMatch(entry.pairs ?? [], q, entry.term ?? '', entry.field ?? '');
}

/** A list entry (one per sort order) or search entry, with the keys of the filtered indexes it belongs to. */
function listEntry(pk: string, sk: string, c: Pick<Client, 'id' | 'status' | 'groupId'>): IndexEntry {
  return { PK: pk, SK: sk, entity: 'clientIndex', clientId: c.id, status: c.status, groupId: c.groupId, ...clientIndexFilterKeys(pk, sk, c) };
}

/** Items outside the client's partition that exist because of the client (its indexes and unique markers). */
function externalItems(companyId: string, c: Client): ExternalItem[] {
  const base = { clientId: c.id, status: c.status, groupId: c.groupId, entity: 'clientIndex' } as const;
  const items: ExternalItem[] = SORT_INDEXES.map((index) => listEntry(clientListPk(companyId, index), `${fitKeyValue(sortValue(c, index))}${SEP}${c.id}`, c));
  const pairs = searchTerms(c).map(([term, field]): [string, SearchField] => [fitKeyValue(term), field]);
  for (const [term, field] of pairs) {
    const entry = listEntry(clientSearchPk(companyId), `${term}${SEP}${field}${SEP}${c.id}`, c);
    items.push({ ...entry, term, field, firstMatchFrom: firstMatchFrom(pairs, term, field) });
  }
  items.push({ PK: groupMemberPk(companyId, c.groupId), SK: c.id, ...base });
  if (c.email) items.push(uniqueMarker(companyId, 'email', c.email.toLowerCase(), c.id));
  if (c.username) items.push(uniqueMarker(companyId, 'username', c.username.toLowerCase(), c.id));
  return items;
}

function uniqueMarkerFromItem(item: StoredItem): UniqueMarker {
  const marker: EveryField<UniqueMarker> = { PK: item.PK, SK: item.SK, entity: 'unique', ownerId: item.ownerId, field: item.field };
  return marker;
}

function indexEntryFromItem(item: StoredItem): IndexEntry {
  const entry: EveryField<IndexEntry> = {
    PK: item.PK,
    SK: item.SK,
    entity: 'clientIndex',
    clientId: item.clientId,
    status: item.status,
    groupId: item.groupId,
    term: item.term,
    field: item.field,
    firstMatchFrom: item.firstMatchFrom,
    pairs: item.pairs,
    GSI3PK: item.GSI3PK,
    GSI3SK: item.GSI3SK,
    GSI4PK: item.GSI4PK,
    GSI4SK: item.GSI4SK,
    GSI5PK: item.GSI5PK,
    GSI5SK: item.GSI5SK,
  };
  return entry;
}

/**
 * A list or search entry as this code writes it, from one written before the filtered indexes (no GSI3–GSI5 keys;
 * a search entry with the client's `pairs` rather than `firstMatchFrom`); undefined when `item` needs no change.
 * Used once over an older table (bin/local/tables.ts): the entry holds all it needs, so no client is read.
 */
export function upgradedIndexEntry(item: StoredItem): IndexEntry | undefined {
  if (item.entity !== 'clientIndex') return undefined;
  const entry = indexEntryFromItem(item);
  const isSearch = entry.term !== undefined && entry.field !== undefined;
  const isList = SORT_INDEXES.some((sort) => entry.PK.endsWith(`#CLX#${sort}`));
  if (!isSearch && !isList) return undefined;
  if (entry.GSI3PK !== undefined && (!isSearch || entry.firstMatchFrom !== undefined)) return undefined;
  const upgraded = listEntry(entry.PK, entry.SK, { id: entry.clientId, status: entry.status, groupId: entry.groupId });
  if (!isSearch) return upgraded;
  const { term, field } = entry as Required<Pick<IndexEntry, 'term' | 'field'>>;
  return { ...upgraded, term, field, firstMatchFrom: entry.firstMatchFrom ?? firstMatchFrom(entry.pairs ?? [[term, field]], term, field) };
}

const keyOf = (k: Key): Key => ({ PK: k.PK, SK: k.SK });
const keyString = (k: Key) => `${k.PK}\n${k.SK}`;
/** Two items built by `externalItems` (the same attributes in the same order) hold the same content. */
const sameContent = (a: ExternalItem, b: ExternalItem) => JSON.stringify(a) === JSON.stringify(b);

function uniqueField(item: ExternalItem): UniqueField | undefined {
  return item.entity === 'unique' ? item.field : undefined;
}

/**
 * The client item. It sorts first in the profile view (LSI1) and lists in `owned` the keys of its index entries
 * and unique markers, so a delete finds them without recomputing them from a profile that may have changed.
 */
export function clientToItem(companyId: string, c: Client, owned: Key[]) {
  return { PK: clientPk(companyId, c.id), SK: clientSk, LSI1SK: PROFILE_VIEW_CLIENT, entity: 'client', ...c, owned };
}

export function clientFromItem(item: StoredItem): Client {
  const client: EveryField<Client> = {
    id: item.id,
    number: item.number,
    status: item.status,
    groupId: item.groupId,
    firstName: item.firstName,
    lastName: item.lastName,
    company: item.company,
    title: item.title,
    address1: item.address1,
    address2: item.address2,
    city: item.city,
    country: item.country,
    state: item.state,
    zip: item.zip,
    email: item.email,
    phones: item.phones,
    taxExempt: item.taxExempt,
    taxId: item.taxId,
    currency: item.currency,
    username: item.username,
    userId: item.userId,
    language: item.language,
    marketingOptIn: item.marketingOptIn,
    customFields: item.customFields,
    autoDebitAccountId: item.autoDebitAccountId,
    emailSuppressed: item.emailSuppressed,
    version: item.version,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  };
  return client;
}

/** A client's per-currency totals as its balance item (kept by the ledger) holds them; a field never moved is 0. */
function balanceFromItem(item: StoredItem): BalanceTotals {
  return { currency: item.currency, invoiced: item.invoiced ?? 0, paid: item.paid ?? 0, due: item.due ?? 0, credit: item.credit ?? 0 };
}

/** The client number's marker is never deleted, so a number is never used again. */
function numberMarker(companyId: string, c: Client): TransactItem {
  return { Put: { TableName: tableName(), Item: uniqueMarker(companyId, 'number', String(c.number), c.id), ConditionExpression: 'attribute_not_exists(PK)' } };
}

function duplicate(field: string): ConflictError {
  return new ConflictError(`A client with that ${field} already exists.`, { field, code: `duplicate_${field}` });
}

/** The client's group must still exist when the client joins it (a group delete may be racing the write). */
function groupExists(companyId: string, groupId: string): TransactItem {
  return { ConditionCheck: { TableName: tableName(), Key: { PK: companyPk(companyId), SK: groupSk(groupId) }, ConditionExpression: 'attribute_exists(PK)' } };
}

const noSuchGroup = () => ValidationError.field('groupId', 'No such client group.');

/**
 * Writes a new client with its unique markers and index entries in one transaction. Without a given number the
 * next one is taken from the company's counter by an atomic increment (store/counters.ts `writeNumbered`), so
 * creates at once never race on it. `extra` items (an activity entry, say) commit in the same transaction; they
 * may depend on the number taken.
 */
export async function insertClient(
  companyId: string,
  draft: Omit<Client, 'number'> & { number?: number },
  extra: (client: Client) => TransactItem[] = () => [],
): Promise<Client> {
  return writeNumbered(companyId, 'client', draft.number, (number) => {
    const client: Client = { ...draft, number };
    const externals = externalItems(companyId, client);
    const items: TransactItem[] = [
      numberMarker(companyId, client),
      { Put: { TableName: tableName(), Item: clientToItem(companyId, client, externals.map(keyOf)), ConditionExpression: 'attribute_not_exists(PK)' } },
      ...externals.map((item) => ({
        Put: { TableName: tableName(), Item: item, ...(uniqueField(item) ? { ConditionExpression: 'attribute_not_exists(PK)' } : {}) },
      })),
      groupExists(companyId, client.groupId),
      ...extra(client),
    ];
    return {
      items,
      result: client,
      markerIndex: 0,
      onConditionFailed: (index) => {
        if (index === 0) return duplicate('number');
        if (index === 2 + externals.length) return noSuchGroup();
        const field = index >= 2 && index < 2 + externals.length ? uniqueField(externals[index - 2]) : undefined;
        return field ? duplicate(field) : new ConflictError('The client could not be created because of a concurrent change; retry.');
      },
    };
  });
}

/**
 * Frees the number of a client that never came to be (its create was undone because its login could not be made),
 * so asking for the same number again works. Only the marker still owned by that client is removed.
 */
export async function releaseClientNumber(companyId: string, client: Pick<Client, 'id' | 'number'>): Promise<void> {
  try {
    await db().send(
      new DeleteCommand({
        TableName: tableName(),
        Key: { PK: uniquePk(companyId, 'number', String(client.number)), SK: uniqueSk },
        ConditionExpression: 'ownerId = :id',
        ExpressionAttributeValues: { ':id': client.id },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

export async function getClient(companyId: string, clientId: string): Promise<Client | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: { PK: clientPk(companyId, clientId), SK: clientSk }, ConsistentRead: true }));
  return out.Item ? clientFromItem(out.Item) : undefined;
}

export async function requireClient(companyId: string, clientId: string): Promise<Client> {
  const client = await getClient(companyId, clientId);
  if (!client) throw new NotFoundError('No such client.');
  return client;
}

/** The profile view: the client, its balances and its sticky notes, from one Query of the client's partition. */
export async function readProfileView(
  companyId: string,
  clientId: string,
): Promise<{ client: Client; balances: BalanceTotals[]; stickyNotes: Note[] } | undefined> {
  const items: StoredItem[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await db().send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: 'LSI1',
        KeyConditionExpression: 'PK = :pk AND LSI1SK < :end',
        ExpressionAttributeValues: { ':pk': clientPk(companyId, clientId), ':end': PROFILE_VIEW_END },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...(out.Items ?? []));
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  const clientRow = items.find((i) => i.SK === clientSk);
  if (!clientRow) return undefined;
  return {
    client: clientFromItem(clientRow),
    balances: items.filter((i) => String(i.LSI1SK).startsWith('1#')).map(balanceFromItem),
    stickyNotes: items.filter((i) => String(i.LSI1SK).startsWith('2#')).map(noteFromItem),
  };
}

/**
 * Replaces a client if its version is still `previous.version`, moving its unique markers and index entries
 * in the same transaction. Only the entries whose key or content changed are written (a city-only change writes
 * the client item alone; a new last name, the entries of that sort order and search term). `extra` items (an
 * activity entry, say) commit with it.
 */
export async function updateClient(companyId: string, previous: Client, next: Client, extra: TransactItem[] = []): Promise<void> {
  const before = externalItems(companyId, previous);
  const after = externalItems(companyId, next);
  const afterKeys = new Set(after.map(keyString));
  const beforeByKey = new Map(before.map((i) => [keyString(i), i]));
  const removed = before.filter((i) => !afterKeys.has(keyString(i)));
  const added = after.filter((i) => {
    const was = beforeByKey.get(keyString(i));
    return was === undefined || !sameContent(was, i);
  });
  const { PK, SK, ...attributes } = clientToItem(companyId, next, after.map(keyOf));
  const writable = clientWritableCondition();
  const items: TransactItem[] = [
    // An update, not a Put: the store's own flags on the item (`deleting`, `mergingInto`) are not the profile's to drop.
    {
      Update: {
        TableName: tableName(),
        Key: { PK, SK },
        // The version condition doubles as the merge/delete guard (store/client-guard.ts) for the items committed with it.
        ...setAttributes(attributes, { ':expected': previous.version, ...writable.values }),
        ConditionExpression: `version = :expected AND ${writable.expression}`,
      },
    },
    ...removed.map((i) => ({ Delete: { TableName: tableName(), Key: keyOf(i) } })),
    ...added.map((item) => ({
      Put: {
        TableName: tableName(),
        Item: item,
        // A marker is written only when its key is new (the same key always holds the same owner and field).
        ...(uniqueField(item) ? { ConditionExpression: 'attribute_not_exists(PK)' } : {}),
      },
    })),
    ...(previous.groupId !== next.groupId ? [groupExists(companyId, next.groupId)] : []),
  ];
  // A new number claims its own marker; the old one stays, so the number is never used again.
  const numberIndex = previous.number !== next.number ? items.length : -1;
  if (numberIndex >= 0) items.push(numberMarker(companyId, next));
  items.push(...extra);
  const onConditionFailed = (index: number) => {
    if (index === 0) return new ConflictError('The client was changed by another request; read it again.', { code: 'stale_version' });
    if (previous.groupId !== next.groupId && index === 1 + removed.length + added.length) return noSuchGroup();
    if (index === numberIndex) return duplicate('number');
    const addedIndex = index - 1 - removed.length;
    const field = addedIndex >= 0 && addedIndex < added.length ? uniqueField(added[addedIndex]) : undefined;
    return field ? duplicate(field) : new ConflictError('The client could not be saved because of a concurrent change; retry.');
  };
  if (numberIndex < 0) return transact(items, onConditionFailed);
  // A number above the counter moves it, so the next client numbered by the counter does not collide with it.
  await writeNumbered(companyId, 'client', next.number, () => ({ items, result: undefined, markerIndex: numberIndex, onConditionFailed }));
}

export interface ClientListOptions {
  sort: SortIndex;
  descending: boolean;
  status?: ClientStatus;
  groupId?: string;
  limit: number;
  startKey?: Record<string, unknown>;
}

/** Fetches the clients behind a page of index entries, keeping the page's order and dropping any that no longer pass the filter. */
async function hydratePage(companyId: string, page: Page<IndexEntry>, o: Pick<ClientListOptions, 'status' | 'groupId'>): Promise<Page<Client>> {
  const clientIds = page.items.map((entry) => entry.clientId);
  if (clientIds.length === 0) return { items: [], lastKey: page.lastKey };
  const items = await batchGetAll(clientIds.map((id) => ({ PK: clientPk(companyId, id), SK: clientSk })));
  const found = new Map(items.map((item) => [item.id, clientFromItem(item)]));
  // A filtered index is eventually consistent in AWS: an entry read there may still show a status or group just changed.
  const passes = (c: Client) => (o.status === undefined || c.status === o.status) && (o.groupId === undefined || c.groupId === o.groupId);
  return { items: clientIds.map((id) => found.get(id)).filter((c): c is Client => c !== undefined && passes(c)), lastKey: page.lastKey };
}

/**
 * One page of a client list or search partition (`pk`), read from the GSI3–GSI5 partition of the filter when there
 * is one, so a page reads about `limit` entries however many clients the company has. `keep` drops a search's
 * entries of clients listed at another of their terms. It asks for one entry more than it needs, so a full last
 * page has no next one. The key to continue from is the base-table key of the last entry returned (the index keys
 * are rebuilt from it and the filter: the cursor stays as short as an unfiltered list's).
 */
async function readEntries(
  pk: string,
  o: Pick<ClientListOptions, 'status' | 'groupId' | 'limit' | 'startKey'> & { descending?: boolean; prefix?: string },
  keep: (entry: IndexEntry) => boolean = () => true,
): Promise<Page<IndexEntry>> {
  const filter = clientIndexFilter(pk, o);
  const [pkName, skName] = filter ? [`${filter.index}PK`, `${filter.index}SK`] : ['PK', 'SK'];
  const resume = (key: Record<string, unknown>) => ({ PK: key.PK, SK: key.SK, ...(filter ? { [pkName]: filter.pk, [skName]: key.SK } : {}) });
  const kept: IndexEntry[] = [];
  let startKey = o.startKey && resume(o.startKey);
  let read = 0;
  for (;;) {
    const needed = o.limit + 1 - kept.length;
    const page = await queryPage<StoredItem>({
      ...(filter ? { IndexName: filter.index } : {}),
      KeyConditionExpression: o.prefix ? '#pk = :pk AND begins_with(#sk, :prefix)' : '#pk = :pk',
      ExpressionAttributeNames: o.prefix ? { '#pk': pkName, '#sk': skName } : { '#pk': pkName },
      ExpressionAttributeValues: { ':pk': filter?.pk ?? pk, ...(o.prefix ? { ':prefix': o.prefix } : {}) },
      ScanIndexForward: !o.descending,
      ExclusiveStartKey: startKey,
      // After a page `keep` thinned, ask for as many more as that rate says are needed (a client has a few terms at most).
      Limit: read === 0 ? needed : Math.min(1000, Math.ceil((needed * (read + 1)) / (kept.length + 1))),
    });
    read += page.items.length;
    for (const item of page.items) {
      const entry = indexEntryFromItem(item);
      if (keep(entry)) kept.push(entry);
      if (kept.length > o.limit) return { items: kept.slice(0, o.limit), lastKey: keyOf(kept[o.limit - 1]) };
    }
    if (!page.lastKey) return { items: kept };
    startKey = resume(page.lastKey);
  }
}

export async function listClients(companyId: string, o: ClientListOptions): Promise<Page<Client>> {
  return hydratePage(companyId, await readEntries(clientListPk(companyId, o.sort), o), o);
}

/** Prefix search over the search-term index; results come in order of the matched value. */
export async function searchClients(companyId: string, q: string, o: Omit<ClientListOptions, 'sort' | 'descending'>): Promise<Page<Client>> {
  const folded = fitKeyValue(searchFold(q));
  // A q that folds to nothing (say, a lone combining accent) matches every term; DynamoDB refuses an empty begins_with.
  const page = await readEntries(clientSearchPk(companyId), { ...o, prefix: folded || undefined }, (entry) => isFirstMatchOf(entry, folded));
  return hydratePage(companyId, page, o);
}

/** The clients of a group, a page at a time (for moving them when the group is deleted). */
export async function groupMemberIds(companyId: string, groupId: string, startKey?: Record<string, unknown>): Promise<Page<string>> {
  const out = await db().send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': groupMemberPk(companyId, groupId) },
      ExclusiveStartKey: startKey,
      Limit: 100,
      ConsistentRead: true,
    }),
  );
  return { items: (out.Items ?? []).map((i) => indexEntryFromItem(i).clientId), lastKey: out.LastEvaluatedKey };
}

/** Moves every client of `fromGroupId` to `toGroupId`, a page at a time with bounded concurrency. */
export async function moveGroupMembers(companyId: string, fromGroupId: string, toGroupId: string): Promise<number> {
  let moved = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await groupMemberIds(companyId, fromGroupId, startKey);
    for (let i = 0; i < page.items.length; i += 8) {
      await Promise.all(
        page.items.slice(i, i + 8).map((clientId) =>
          retryWhile(
            async () => {
              const client = await getClient(companyId, clientId);
              if (!client || client.groupId !== fromGroupId) return;
              await updateClient(companyId, client, { ...client, groupId: toGroupId, version: client.version + 1, updatedAt: nowIso() });
              moved++;
            },
            (error) => error instanceof ConflictError,
            5,
          ).catch((error: unknown) => {
            if (error instanceof ConflictError) throw new ConflictError('A client of this group kept changing while it was being moved; retry.');
            throw error;
          }),
        ),
      );
    }
    startKey = page.lastKey;
  } while (startKey);
  return moved;
}

/** Which client owns a unique value (email, username) in a company. */
export async function ownerOfUnique(companyId: string, field: UniqueField, value: string): Promise<string | undefined> {
  const out = await db().send(
    new GetCommand({
      TableName: tableName(),
      Key: { PK: uniquePk(companyId, field, field === 'number' ? value : value.toLowerCase()), SK: uniqueSk },
      ConsistentRead: true,
    }),
  );
  return out.Item ? uniqueMarkerFromItem(out.Item).ownerId : undefined;
}

export async function clientStatusForUsername(companyId: string, username: string): Promise<ClientStatus | undefined> {
  const clientId = await ownerOfUnique(companyId, 'username', username);
  if (!clientId) return undefined;
  return (await getClient(companyId, clientId))?.status;
}

/** Links a client to its login at the identity provider (an internal field: the version does not move). */
export async function setClientUserId(companyId: string, clientId: string, userId: string | null): Promise<void> {
  await db().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: { PK: clientPk(companyId, clientId), SK: clientSk },
      UpdateExpression: 'SET userId = :u',
      ConditionExpression: 'attribute_exists(PK)',
      ExpressionAttributeValues: { ':u': userId },
    }),
  );
}

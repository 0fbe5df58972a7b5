/**
 * The single table's physical design, shared by the CDK data construct and the local stack so both build
 * exactly the same table. The logical key design (which item lives where) is in `keys.ts`.
 */
export const TABLE_DESIGN = {
  partitionKey: 'PK',
  sortKey: 'SK',
  timeToLiveAttribute: 'expiresAt',
  globalIndexes: [
    /** Overloaded collections: companies, invoices by company and status, transactions and mail by company. */
    { name: 'GSI1', partitionKey: 'GSI1PK', sortKey: 'GSI1SK' },
    /** Sparse, date-keyed work for the automation: renewals, open invoices by due date, recurring invoices. */
    { name: 'GSI2', partitionKey: 'GSI2PK', sortKey: 'GSI2SK' },
  ],
  localIndexes: [
    /** The client profile view: the client item, its balances and its sticky notes, in one Query. */
    { name: 'LSI1', sortKey: 'LSI1SK' },
  ],
} as const;

export type IndexName = (typeof TABLE_DESIGN.globalIndexes)[number]['name'] | (typeof TABLE_DESIGN.localIndexes)[number]['name'];

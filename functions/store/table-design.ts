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
    /**
     * Filtered lists, so a filter narrows the partition read instead of thinning a page of a larger one (what each
     * holds is in keys.ts): GSI3 one filter (a client list by status, a client's invoices by status), GSI4 another
     * (a client list by group, a company's invoices by status), GSI5 both (a client list by group and status).
     */
    { name: 'GSI3', partitionKey: 'GSI3PK', sortKey: 'GSI3SK' },
    { name: 'GSI4', partitionKey: 'GSI4PK', sortKey: 'GSI4SK' },
    { name: 'GSI5', partitionKey: 'GSI5PK', sortKey: 'GSI5SK' },
  ],
  localIndexes: [
    /** The client profile view: the client item, its balances and its sticky notes, in one Query. */
    { name: 'LSI1', sortKey: 'LSI1SK' },
  ],
} as const;

export type IndexName = (typeof TABLE_DESIGN.globalIndexes)[number]['name'] | (typeof TABLE_DESIGN.localIndexes)[number]['name'];

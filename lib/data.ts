import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { TABLE_DESIGN } from '../functions/store/table-design.js';

/** The DynamoDB item actions a Billow function may be granted (`Scan` is not one of them). */
export type TableItemAction = 'GetItem' | 'BatchGetItem' | 'Query' | 'ConditionCheckItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'BatchWriteItem';

/**
 * What a function may do with the table:
 * - `read`: GetItem/BatchGetItem/ConditionCheckItem on the table, Query on the table and its indexes;
 * - `readWrite`: `read` plus PutItem/UpdateItem/DeleteItem/BatchWriteItem on the table;
 * - `deleteOnly`: DeleteItem on the table (one-time items consumed by a conditional delete);
 * - `{ items, queryIndexes }`: exactly the listed item actions on the table, plus Query on each index when
 *   `queryIndexes` is set (for functions whose code path is small enough to list, e.g. the SES events handler).
 * Transactions need exactly the grants of the actions they contain. `Scan` is never granted.
 */
export type TableAccess = 'read' | 'readWrite' | 'deleteOnly' | { readonly items: readonly TableItemAction[]; readonly queryIndexes?: boolean };

const ITEM_READ = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'];
const ITEM_WRITE = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
const INDEX_READ = ['dynamodb:Query'];

/** The single DynamoDB table, built from `functions/store/table-design.ts` (the local stack uses the same). */
export class BillowTable extends Construct {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const S = dynamodb.AttributeType.STRING;
    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: { name: TABLE_DESIGN.partitionKey, type: S },
      sortKey: { name: TABLE_DESIGN.sortKey, type: S },
      billing: dynamodb.Billing.onDemand(),
      timeToLiveAttribute: TABLE_DESIGN.timeToLiveAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
      removalPolicy: RemovalPolicy.RETAIN,
      globalSecondaryIndexes: TABLE_DESIGN.globalIndexes.map((index) => ({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: S },
        sortKey: { name: index.sortKey, type: S },
        projectionType: dynamodb.ProjectionType.ALL,
      })),
      localSecondaryIndexes: TABLE_DESIGN.localIndexes.map((index) => ({
        indexName: index.name,
        sortKey: { name: index.sortKey, type: S },
        projectionType: dynamodb.ProjectionType.ALL,
      })),
    });
  }

  /** ARNs of every index, named one by one (no `index/*`). */
  indexArns(): string[] {
    const names = [...TABLE_DESIGN.globalIndexes, ...TABLE_DESIGN.localIndexes].map((index) => index.name);
    return names.map((name) => `${this.table.tableArn}/index/${name}`);
  }

  grant(grantee: iam.IGrantable, access: TableAccess): void {
    const tableArn = this.table.tableArn;
    if (access === 'deleteOnly') {
      iam.Grant.addToPrincipal({ grantee, actions: ['dynamodb:DeleteItem'], resourceArns: [tableArn] });
      return;
    }
    if (typeof access === 'object') {
      if (access.items.length === 0) throw new Error('A table grant needs at least one item action');
      iam.Grant.addToPrincipal({ grantee, actions: [...new Set(access.items)].map((a) => `dynamodb:${a}`), resourceArns: [tableArn] });
      if (access.queryIndexes) iam.Grant.addToPrincipal({ grantee, actions: INDEX_READ, resourceArns: this.indexArns() });
      return;
    }
    const itemActions = access === 'readWrite' ? [...ITEM_READ, ...ITEM_WRITE] : ITEM_READ;
    iam.Grant.addToPrincipal({ grantee, actions: itemActions, resourceArns: [tableArn] });
    iam.Grant.addToPrincipal({ grantee, actions: INDEX_READ, resourceArns: this.indexArns() });
  }
}

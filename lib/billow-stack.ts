import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { AnyRoute } from '../functions/http/route.js';
import { BillowApi } from './api.js';
import { BillowTable } from './data.js';
import { BillowIdentity } from './identity.js';
import { BillowObservability } from './observability.js';

export interface BillowStackProps extends StackProps {
  /** The API's route table (`allRoutes` from `functions/http/route-table.ts`). */
  routes: readonly AnyRoute[];
}

/** Billow's one stack: a construct per capability. Infrastructure only; no business rules. */
export class BillowStack extends Stack {
  readonly data: BillowTable;
  readonly identity: BillowIdentity;
  readonly api: BillowApi;
  readonly observability: BillowObservability;

  constructor(scope: Construct, id: string, props: BillowStackProps) {
    super(scope, id, props);
    this.data = new BillowTable(this, 'Data');
    this.identity = new BillowIdentity(this, 'Identity', { table: this.data });
    this.api = new BillowApi(this, 'Api', { table: this.data, identity: this.identity, routes: props.routes });
    this.observability = new BillowObservability(this, 'Observability', {
      api: this.api,
      table: this.data,
      otherFunctions: this.identity.triggers,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the HTTP API' });
    new CfnOutput(this, 'UserPoolId', { value: this.identity.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: this.identity.client.userPoolClientId });
    new CfnOutput(this, 'TableName', { value: this.data.table.tableName });
  }
}

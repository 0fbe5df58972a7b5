import { beforeAll, describe, expect, it } from 'vitest';
import { App } from 'aws-cdk-lib';
import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { API_AREAS, routeKey, type ApiArea } from '../../functions/http/route.js';
import { clientExportKey, mailAttachmentKey, mailBodyKey } from '../../functions/store/keys.js';
import { allRoutes } from '../../functions/http/route-table.js';
import { TABLE_DESIGN } from '../../functions/store/table-design.js';
import { COGNITO_ADMIN_ACTIONS, ROLE_GROUPS } from '../../lib/identity.js';
import { API_THROTTLE, AREA_ACCESS, type Capability } from '../../lib/api.js';
import { BillowStack, DEFAULT_MAIL_DOMAIN } from '../../lib/billow-stack.js';
import { BLOB_ACCESS_LOG_RETENTION, BLOB_TIERING_AFTER, MAIL_EVENTS, SES_SEND_ACTIONS } from '../../lib/email.js';
import {
  BLOB_ACCESS_PREFIX,
  BLOB_ACTIONS,
  BLOB_KEY_PREFIX,
  EXPORT_KEY_PREFIX,
  IMPORT_FILES_ACTIONS,
  NODE_RUNTIME,
  type BillowFunction,
  type BlobAccess,
} from '../../lib/function.js';
import { PAYMENT_KEY_ALIAS } from '../../lib/payments.js';
import { buildStack, buildTemplate, grantsOfRole, json, testApp, TEST_ENV, type Grant, type Resource } from '../support/cdk.js';

let stack: BillowStack;
let template: Template;
/** Logical id of a construct's CloudFormation resource. */
let id: (construct: { node: { defaultChild?: unknown } } | unknown) => string;
let resolve: (value: unknown) => unknown;

beforeAll(() => {
  ({ stack, template } = buildTemplate());
  resolve = (value) => stack.resolve(value);
  id = (construct) => {
    const c = construct as { node: { defaultChild?: unknown } };
    const child = (c.node.defaultChild ?? construct) as Parameters<BillowStack['getLogicalId']>[0];
    return stack.getLogicalId(child);
  };
});

const resources = (type: string) => template.findResources(type) as Record<string, Resource>;

describe('table', () => {
  it('has the physical design of functions/store/table-design.ts', () => {
    const tables = Object.values(resources('AWS::DynamoDB::GlobalTable'));
    expect(tables).toHaveLength(1);
    const table = tables[0].Properties;
    expect(table.KeySchema).toEqual([
      { AttributeName: TABLE_DESIGN.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_DESIGN.sortKey, KeyType: 'RANGE' },
    ]);
    expect(table.GlobalSecondaryIndexes).toEqual(
      TABLE_DESIGN.globalIndexes.map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    );
    expect(table.LocalSecondaryIndexes).toEqual(
      TABLE_DESIGN.localIndexes.map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: TABLE_DESIGN.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    );
    const keyNames = new Set<string>([
      TABLE_DESIGN.partitionKey,
      TABLE_DESIGN.sortKey,
      ...TABLE_DESIGN.globalIndexes.flatMap((i) => [i.partitionKey, i.sortKey]),
      ...TABLE_DESIGN.localIndexes.map((i) => i.sortKey),
    ]);
    expect(table.AttributeDefinitions).toHaveLength(keyNames.size);
    for (const name of keyNames) expect(table.AttributeDefinitions).toContainEqual({ AttributeName: name, AttributeType: 'S' });
  });

  it('is on demand, with TTL on expiresAt, PITR, deletion protection, KMS encryption, retained', () => {
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: TABLE_DESIGN.timeToLiveAttribute, Enabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
        Replicas: [
          Match.objectLike({
            Region: TEST_ENV.region,
            DeletionProtectionEnabled: true,
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          }),
        ],
      }),
    });
  });
});

describe('identity', () => {
  it('user pool: admin-created users only, 8+ character passwords, mutable custom attributes, login-as triggers, protected', () => {
    template.hasResource('AWS::Cognito::UserPool', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
        DeletionProtection: 'ACTIVE',
        Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 8 }) },
        LambdaConfig: {
          DefineAuthChallenge: { 'Fn::GetAtt': [id(stack.identity.triggers[0]), 'Arn'] },
          CreateAuthChallenge: { 'Fn::GetAtt': [id(stack.identity.triggers[1]), 'Arn'] },
          VerifyAuthChallengeResponse: { 'Fn::GetAtt': [id(stack.identity.triggers[2]), 'Arn'] },
        },
      }),
    });
    const pool = Object.values(resources('AWS::Cognito::UserPool'))[0].Properties;
    for (const name of ['role', 'companyId', 'clientId', 'username']) {
      expect(pool.Schema).toContainEqual(expect.objectContaining({ Name: name, AttributeDataType: 'String', Mutable: true }));
    }
    expect(pool.AliasAttributes ?? []).toEqual([]);
    expect(pool.UsernameAttributes ?? []).toEqual([]);
  });

  it('app client: no secret, only the admin-password and custom flows, custom attributes readable and not writable', () => {
    const clients = Object.values(resources('AWS::Cognito::UserPoolClient'));
    expect(clients).toHaveLength(1);
    const client = clients[0].Properties;
    expect(client.GenerateSecret).toBe(false);
    expect([...client.ExplicitAuthFlows].sort()).toEqual(['ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_CUSTOM_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH']);
    expect(client.PreventUserExistenceErrors).toBe('ENABLED');
    for (const name of ['custom:role', 'custom:companyId', 'custom:clientId', 'custom:username']) {
      expect(client.ReadAttributes).toContain(name);
      expect(client.WriteAttributes).not.toContain(name);
    }
    expect(client.WriteAttributes.length).toBeGreaterThan(0);
  });

  it('has one group per role', () => {
    const groups = Object.values(resources('AWS::Cognito::UserPoolGroup')).map((g) => g.Properties.GroupName);
    expect(groups.sort()).toEqual([...ROLE_GROUPS].sort());
  });
});

describe('functions', () => {
  const apiFunction = (area: string) => stack.api.functions[area as keyof typeof stack.api.functions];

  it('one Lambda per API area, plus the three Cognito triggers, the SES events handler, the payment reconciler, the automation task and dispatcher and the import worker, all on the newest Node runtime, ARM, traced', () => {
    const functions = resources('AWS::Lambda::Function');
    expect(Object.keys(functions)).toHaveLength(API_AREAS.length + 3 + 1 + 1 + 2 + 1);
    for (const fn of Object.values(functions)) {
      expect(fn.Properties).toMatchObject({ Runtime: NODE_RUNTIME.name, Architectures: ['arm64'], TracingConfig: { Mode: 'Active' } });
      expect(fn.Properties.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
    }
    expect(NODE_RUNTIME.name).toBe('nodejs24.x');
  });

  it('each API Lambda runs its area handler with exactly the environment of the capabilities it uses', () => {
    const capabilityEnv: Record<Capability, Record<string, unknown>> = {
      identity: {
        BILLOW_USER_POOL_ID: resolve(stack.identity.userPool.userPoolId),
        BILLOW_USER_POOL_CLIENT_ID: resolve(stack.identity.client.userPoolClientId),
      },
      secrets: { BILLOW_SIGNING_SECRET_ARN: resolve(stack.api.signingSecret.secretArn) },
      mailer: {
        BILLOW_SES_CONFIGURATION_SET: resolve(stack.email.configurationSet.configurationSetName),
        BILLOW_MAIL_FROM: `billing@${DEFAULT_MAIL_DOMAIN}`,
        BILLOW_APP_URL: `https://app.${DEFAULT_MAIL_DOMAIN}`,
      },
      cipher: { BILLOW_KMS_KEY_ID: resolve(stack.payments.key.keyArn) },
      // The simulator: no Stripe secret unless deployed with gateway=stripe (see 'gateway=stripe' below).
      gateway: {},
      blobs: { BILLOW_BLOB_BUCKET: resolve(stack.email.blobBucket.bucketName) },
      workflow: { BILLOW_STATE_MACHINE_ARN: resolve(stack.automation.stateMachine.stateMachineArn) },
      importFiles: { BILLOW_IMPORTS_BUCKET: resolve(stack.imports.bucket.bucketName) },
      importQueue: { BILLOW_IMPORTS_QUEUE_URL: resolve(stack.imports.queue.queueUrl) },
    };
    for (const area of API_AREAS) {
      const fn = apiFunction(area);
      const expected = {
        NODE_OPTIONS: '--enable-source-maps',
        BILLOW_RUNTIME: 'aws',
        BILLOW_TABLE: resolve(stack.data.table.tableName),
        POWERTOOLS_SERVICE_NAME: 'billow',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...Object.assign({}, ...AREA_ACCESS[area].uses.map((c) => capabilityEnv[c])),
      };
      const deployed = template.toJSON().Resources[id(fn)].Properties;
      expect(deployed).toMatchObject({
        Description: `Billow API: ${area} routes`,
        Handler: 'index.handler',
        MemorySize: 1024,
        Timeout: 20,
        LoggingConfig: { LogGroup: { Ref: id(fn.functionLogGroup) } },
      });
      expect(deployed.Environment.Variables, area).toEqual(expected);
    }
  });

  it('every function has its own log group with a retention', () => {
    const groups = resources('AWS::Logs::LogGroup');
    const fns = [
      ...API_AREAS.map(apiFunction),
      ...stack.identity.triggers,
      stack.email.eventsFunction,
      stack.reconciler.function,
      stack.automation.taskFunction,
      stack.automation.dispatcher,
      stack.imports.worker,
    ];
    for (const fn of fns) expect(groups[id(fn.functionLogGroup)].Properties.RetentionInDays).toBeGreaterThan(0);
  });

  it('the signing secret is generated, at least 32 characters; it is the only secret without gateway=stripe', () => {
    const secrets = resources('AWS::SecretsManager::Secret');
    expect(Object.keys(secrets)).toEqual([id(stack.api.signingSecret)]);
    expect(secrets[id(stack.api.signingSecret)].Properties.GenerateSecretString.PasswordLength).toBeGreaterThanOrEqual(32);
  });
});

describe('HTTP API', () => {
  const routes = () => Object.values(resources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties);

  it('has one route per entry of the route table, plus $default', () => {
    const keys = routes()
      .map((r) => r.RouteKey)
      .sort();
    expect(keys).toEqual([...allRoutes.map(routeKey), '$default'].sort());
  });

  it('puts the Cognito JWT authorizer on every non-public route and none on public ones', () => {
    const authorizers = Object.keys(resources('AWS::ApiGatewayV2::Authorizer'));
    expect(authorizers).toHaveLength(1);
    const byKey = new Map(routes().map((r) => [r.RouteKey as string, r]));
    for (const route of allRoutes) {
      const deployed = byKey.get(routeKey(route))!;
      if (route.access === 'public') {
        expect(deployed.AuthorizationType, routeKey(route)).toBe('NONE');
        expect(deployed.AuthorizerId, routeKey(route)).toBeUndefined();
      } else {
        expect(deployed.AuthorizationType, routeKey(route)).toBe('JWT');
        expect(deployed.AuthorizerId, routeKey(route)).toEqual({ Ref: authorizers[0] });
      }
    }
    expect(byKey.get('$default')!.AuthorizationType).toBe('NONE');
  });

  it('the authorizer checks the pool`s issuer and the app client as audience', () => {
    const authorizer = Object.values(resources('AWS::ApiGatewayV2::Authorizer'))[0].Properties;
    expect(authorizer.AuthorizerType).toBe('JWT');
    expect(authorizer.IdentitySource).toEqual(['$request.header.Authorization']);
    expect(authorizer.JwtConfiguration.Audience).toEqual([resolve(stack.identity.client.userPoolClientId)]);
    expect(authorizer.JwtConfiguration.Issuer).toEqual(resolve(`https://cognito-idp.${TEST_ENV.region}.amazonaws.com/${stack.identity.userPool.userPoolId}`));
  });

  it('sends each route to the Lambda of its area', () => {
    const integrations = resources('AWS::ApiGatewayV2::Integration');
    for (const route of routes()) {
      const target = route.Target['Fn::Join'][1] as unknown[];
      const integration = integrations[(target[1] as { Ref: string }).Ref].Properties;
      const definition = allRoutes.find((r) => routeKey(r) === route.RouteKey);
      const area = definition?.area ?? 'platform';
      expect(integration.IntegrationUri, route.RouteKey).toEqual({ 'Fn::GetAtt': [id(stack.api.functions[area]), 'Arn'] });
      expect(integration).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
    }
  });

  it('grants API Gateway one invoke permission per area function, scoped to this API', () => {
    const permissions = Object.values(resources('AWS::Lambda::Permission')).filter((p) => p.Properties.Principal === 'apigateway.amazonaws.com');
    expect(permissions).toHaveLength(API_AREAS.length);
    for (const permission of permissions) expect(json(permission.Properties.SourceArn)).toContain(id(stack.api.httpApi));
  });

  it('default stage: auto-deployed, throttled, access-logged as JSON with the request id', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingBurstLimit: API_THROTTLE.burstLimit, ThrottlingRateLimit: API_THROTTLE.rateLimit },
      AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [id(stack.api.accessLogs), 'Arn'] }, Format: Match.stringLikeRegexp('\\$context\\.requestId') },
    });
    const format = Object.values(resources('AWS::ApiGatewayV2::Stage'))[0].Properties.AccessLogSettings.Format;
    expect(() => JSON.parse(format)).not.toThrow();
  });

  it('CORS for web clients: bearer tokens, idempotency keys and If-Match allowed; request id exposed', () => {
    const api = Object.values(resources('AWS::ApiGatewayV2::Api'))[0].Properties;
    expect(api.ProtocolType).toBe('HTTP');
    expect(api.CorsConfiguration.AllowOrigins).toEqual(['*']);
    expect(api.CorsConfiguration.AllowHeaders).toEqual(expect.arrayContaining(['authorization', 'content-type', 'idempotency-key', 'if-match']));
    expect(api.CorsConfiguration.ExposeHeaders).toContain('x-request-id');
    expect(api.CorsConfiguration.AllowMethods).toEqual(expect.arrayContaining(['GET', 'POST', 'PATCH', 'DELETE']));
  });

  it('outputs the API URL and the pool ids', () => {
    const outputs = template.findOutputs('*');
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['ApiUrl', 'UserPoolId', 'UserPoolClientId']));
  });
});

describe('IAM least privilege', () => {
  const roleId = (fn: BillowFunction) => id(fn.executionRole);
  const tableArn = () => json(resolve(stack.data.table.tableArn));
  const indexArns = () => stack.data.indexArns().map((arn) => json(resolve(arn)));
  const byService = (grants: Grant[], prefix: string) => grants.filter((g) => g.action.startsWith(`${prefix}:`));
  const pairs = (grants: Grant[]) => grants.map((g) => `${g.action} ${g.resource}`).sort();

  it('roles carry no managed policies', () => {
    for (const role of Object.values(resources('AWS::IAM::Role'))) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('API functions: item actions on the table, Query on each named index, never Scan, nothing else in DynamoDB', () => {
    for (const area of API_AREAS) {
      const grants = grantsOfRole(template, roleId(stack.api.functions[area]));
      const dynamo = byService(grants, 'dynamodb');
      const itemActions = ['BatchGetItem', 'BatchWriteItem', 'ConditionCheckItem', 'DeleteItem', 'GetItem', 'PutItem', 'Query', 'UpdateItem'];
      const expected = [
        ...itemActions.map((a) => ({ action: `dynamodb:${a}`, resource: tableArn() })),
        ...indexArns().map((resource) => ({ action: 'dynamodb:Query', resource })),
      ];
      expect(pairs(dynamo), area).toEqual(pairs(expected));
      expect(indexArns()).toHaveLength(TABLE_DESIGN.globalIndexes.length + TABLE_DESIGN.localIndexes.length);
    }
  });

  it('the capability map is the one the area code needs', () => {
    const uses = Object.fromEntries(API_AREAS.map((area) => [area, [...AREA_ACCESS[area].uses].sort()]));
    expect(uses).toEqual({
      platform: ['identity'],
      companies: ['identity', 'secrets'],
      clients: ['blobs', 'identity', 'mailer', 'secrets'],
      billing: ['blobs', 'cipher', 'gateway', 'mailer', 'secrets'],
      email: ['blobs', 'mailer', 'secrets'],
      packages: ['secrets'],
      automation: ['secrets', 'workflow'],
      imports: ['importFiles', 'secrets'],
    });
    // Every mailer stores what does not fit in a mail-log item and reads it back; only the clients area deletes, and
    // it alone writes a large clients export (GET /v1/clients/export) for its download link.
    const blobAccess = Object.fromEntries(API_AREAS.map((area) => [area, [...(AREA_ACCESS[area].blobs ?? [])].sort()]));
    expect(blobAccess).toEqual({
      platform: [],
      companies: [],
      clients: ['delete', 'export', 'readWrite'],
      billing: ['readWrite'],
      email: ['readWrite'],
      packages: [],
      automation: [],
      imports: [],
    });
    for (const area of API_AREAS) if (AREA_ACCESS[area].uses.includes('mailer')) expect(AREA_ACCESS[area].blobs, area).toContain('readWrite');
  });

  it('API functions: each capability`s grant, exactly, on its own resource, and only for the areas that use it', () => {
    const poolArn = json(resolve(stack.identity.userPool.userPoolArn));
    const secretArn = json(resolve(stack.api.signingSecret.secretArn));
    const keyArn = json(resolve(stack.payments.key.keyArn));
    const sesResources = [stack.email.identity.emailIdentityArn, stack.email.configurationSetArn].map((arn) => json(resolve(arn)));
    const blobObjects = (access: BlobAccess) => json(resolve(stack.email.blobBucket.arnForObjects(`${BLOB_ACCESS_PREFIX[access]}*`)));
    const blobGrants = (area: ApiArea) =>
      (AREA_ACCESS[area].blobs ?? []).flatMap((access) => BLOB_ACTIONS[access].map((action) => ({ action, resource: blobObjects(access) })));
    const expected: Record<Capability, { service: string; grants: Grant[] | ((area: ApiArea) => Grant[]) }> = {
      identity: { service: 'cognito-idp', grants: COGNITO_ADMIN_ACTIONS.map((action) => ({ action, resource: poolArn })) },
      secrets: {
        service: 'secretsmanager',
        grants: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'].map((action) => ({ action, resource: secretArn })),
      },
      mailer: { service: 'ses', grants: SES_SEND_ACTIONS.flatMap((action) => sesResources.map((resource) => ({ action, resource }))) },
      cipher: { service: 'kms', grants: ['kms:GenerateDataKey', 'kms:Decrypt'].map((action) => ({ action, resource: keyArn })) },
      gateway: { service: 'secretsmanager', grants: [] },
      blobs: { service: 's3', grants: blobGrants },
      workflow: { service: 'states', grants: [{ action: 'states:StartExecution', resource: json(resolve(stack.automation.stateMachine.stateMachineArn)) }] },
      importFiles: {
        service: 's3',
        grants: IMPORT_FILES_ACTIONS.upload.map(({ action, prefix }) => ({
          action,
          resource: json(resolve(stack.imports.bucket.arnForObjects(`${prefix}*`))),
        })),
      },
      importQueue: { service: 'sqs', grants: [{ action: 'sqs:SendMessage', resource: json(resolve(stack.imports.queue.queueArn)) }] },
    };
    for (const area of API_AREAS) {
      const grants = grantsOfRole(template, roleId(stack.api.functions[area]));
      const uses = new Set(AREA_ACCESS[area].uses);
      const services = new Set(['dynamodb', 'logs', 'xray']);
      const byServiceExpected = new Map<string, Grant[]>();
      for (const capability of uses) {
        const { service, grants: granted } = expected[capability];
        const capabilityGrants = typeof granted === 'function' ? granted(area) : granted;
        if (capabilityGrants.length) services.add(service);
        byServiceExpected.set(service, [...(byServiceExpected.get(service) ?? []), ...capabilityGrants]);
      }
      for (const service of ['cognito-idp', 'secretsmanager', 'ses', 'kms', 's3', 'states', 'sqs']) {
        expect(pairs(byService(grants, service)), `${area} ${service}`).toEqual(pairs(byServiceExpected.get(service) ?? []));
      }
      expect([...new Set(grants.map((g) => g.action.split(':')[0]))].sort(), area).toEqual([...services].sort());
    }
  });

  it('billing seals payment details with the payment key and has no Cognito; email sends through SES only', () => {
    const billing = grantsOfRole(template, roleId(stack.api.functions.billing));
    expect(pairs(byService(billing, 'kms'))).toEqual(
      pairs(['kms:Decrypt', 'kms:GenerateDataKey'].map((action) => ({ action, resource: json(resolve(stack.payments.key.keyArn)) }))),
    );
    expect(byService(billing, 'cognito-idp')).toEqual([]);
    const email = grantsOfRole(template, roleId(stack.api.functions.email));
    expect(byService(email, 'kms')).toEqual([]);
    expect(byService(email, 'cognito-idp')).toEqual([]);
    for (const grant of byService(email, 'ses')) {
      expect(grant.action).toMatch(/^ses:Send(Raw)?Email$/);
      expect([json(resolve(stack.email.identity.emailIdentityArn)), json(resolve(stack.email.configurationSetArn))]).toContain(grant.resource);
    }
    expect(byService(grantsOfRole(template, roleId(stack.api.functions.platform)), 'secretsmanager')).toEqual([]);
  });

  it('only billing and the payment reconciler may use the payment key', () => {
    const keyArn = json(resolve(stack.payments.key.keyArn));
    const fns = [...Object.values(stack.api.functions), ...stack.identity.triggers, stack.email.eventsFunction, stack.reconciler.function];
    const users = fns.filter((fn) => grantsOfRole(template, roleId(fn)).some((g) => g.resource === keyArn));
    expect(users).toEqual([stack.api.functions.billing, stack.reconciler.function]);
  });

  it('SES events function: Get/Put/Update items (no index, no delete, no batch), its dead-letter queue, nothing else', () => {
    const fn = stack.email.eventsFunction;
    const grants = grantsOfRole(template, roleId(fn));
    expect(pairs(byService(grants, 'dynamodb'))).toEqual(
      pairs(['GetItem', 'PutItem', 'UpdateItem'].map((a) => ({ action: `dynamodb:${a}`, resource: tableArn() }))),
    );
    expect(pairs(byService(grants, 'sqs'))).toEqual([`sqs:SendMessage ${json(resolve(stack.email.eventsDeadLetterQueue.queueArn))}`]);
    expect(pairs(byService(grants, 'kms'))).toEqual(
      pairs(['kms:GenerateDataKey', 'kms:Decrypt'].map((action) => ({ action, resource: json(resolve(stack.email.eventsKey.keyArn)) }))),
    );
    expect([...new Set(grants.map((g) => g.action.split(':')[0]))].sort()).toEqual(['dynamodb', 'kms', 'logs', 'sqs', 'xray']);
  });

  it('every function writes only to its own log group; a wildcard resource appears only for X-Ray', () => {
    const fns = [...Object.values(stack.api.functions), ...stack.identity.triggers, stack.email.eventsFunction, stack.reconciler.function];
    for (const fn of fns) {
      const grants = grantsOfRole(template, roleId(fn));
      expect(pairs(byService(grants, 'logs'))).toEqual(
        pairs(['logs:CreateLogStream', 'logs:PutLogEvents'].map((action) => ({ action, resource: json({ 'Fn::GetAtt': [id(fn.functionLogGroup), 'Arn'] }) }))),
      );
      for (const grant of grants) {
        if (grant.resource === '"*"') expect(grant.action).toMatch(/^xray:(PutTraceSegments|PutTelemetryRecords)$/);
        expect(grant.action).not.toContain('*');
      }
    }
  });

  it('Cognito triggers: define/create touch nothing; verify may only delete items of the table', () => {
    const [define, create, verify] = stack.identity.triggers;
    for (const fn of [define, create]) {
      const services = new Set(grantsOfRole(template, roleId(fn)).map((g) => g.action.split(':')[0]));
      expect([...services].sort()).toEqual(['logs', 'xray']);
    }
    const grants = grantsOfRole(template, roleId(verify));
    expect(pairs(byService(grants, 'dynamodb'))).toEqual([`dynamodb:DeleteItem ${tableArn()}`]);
    expect(grants.some((g) => g.action.startsWith('cognito-idp:'))).toBe(false);
  });
});

describe('payments', () => {
  it('a customer-managed payment-details key: rotated, aliased, retained', () => {
    template.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({ EnableKeyRotation: true, KeySpec: Match.absent() }),
    });
    const key = resources('AWS::KMS::Key')[id(stack.payments.key)];
    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(key.DeletionPolicy).toBe('Retain');
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: PAYMENT_KEY_ALIAS, TargetKeyId: { 'Fn::GetAtt': [id(stack.payments.key), 'Arn'] } });
    // No service principal may use it: only IAM policies of this account (billing's role).
    const principals = (key.Properties.KeyPolicy.Statement as Array<Record<string, any>>).map((st) => st.Principal);
    expect(principals).toEqual([{ AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${TEST_ENV.account}:root`]] } }]);
  });
});

describe('email', () => {
  it('an SES domain identity whose default configuration set is Billow`s', () => {
    const identities = Object.values(resources('AWS::SES::EmailIdentity'));
    expect(identities).toHaveLength(1);
    expect(identities[0].Properties).toEqual({
      EmailIdentity: DEFAULT_MAIL_DOMAIN,
      ConfigurationSetAttributes: { ConfigurationSetName: { Ref: id(stack.email.configurationSet) } },
    });
    template.resourceCountIs('AWS::SES::ConfigurationSet', 1);
  });

  it('the configuration set publishes every delivery event the handler reads to the topic', () => {
    const destinations = Object.values(resources('AWS::SES::ConfigurationSetEventDestination'));
    expect(destinations).toHaveLength(1);
    const destination = destinations[0].Properties;
    expect(destination.ConfigurationSetName).toEqual({ Ref: id(stack.email.configurationSet) });
    expect(destination.EventDestination.Enabled).toBe(true);
    expect(destination.EventDestination.SnsDestination).toEqual({ TopicARN: { Ref: id(stack.email.eventsTopic) } });
    expect([...destination.EventDestination.MatchingEventTypes].sort()).toEqual(
      ['bounce', 'complaint', 'delivery', 'deliveryDelay', 'reject', 'renderingFailure', 'send'].sort(),
    );
    expect(MAIL_EVENTS).toHaveLength(7);
  });

  it('the topic is KMS-encrypted with a rotated key SES may use, TLS-only, and SES may publish for this account`s configuration set only', () => {
    const keyId = id(stack.email.eventsKey);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    const key = resources('AWS::KMS::Key')[keyId].Properties;
    expect(key.EnableKeyRotation).toBe(true);
    const statements = key.KeyPolicy.Statement as Array<Record<string, any>>;
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Allow', Principal: { Service: 'ses.amazonaws.com' }, Action: ['kms:GenerateDataKey', 'kms:Decrypt'] }),
    );

    const policies = Object.values(resources('AWS::SNS::TopicPolicy')).filter((p) => json(p.Properties.Topics).includes(id(stack.email.eventsTopic)));
    expect(policies).toHaveLength(1);
    const topicStatements = policies[0].Properties.PolicyDocument.Statement as Array<Record<string, any>>;
    expect(topicStatements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    const sesPublish = topicStatements.find((st) => st.Effect === 'Allow' && json(st.Principal).includes('ses.amazonaws.com'));
    expect(sesPublish).toMatchObject({ Action: 'sns:Publish', Resource: { Ref: id(stack.email.eventsTopic) } });
    expect(sesPublish!.Condition.StringEquals['AWS:SourceAccount']).toBe(TEST_ENV.account);
    expect(sesPublish!.Condition.StringEquals['AWS:SourceArn']).toEqual(resolve(stack.email.configurationSetArn));
  });

  it('the events Lambda is subscribed with an encrypted, TLS-only dead-letter queue that also takes its failed invocations', () => {
    const fn = stack.email.eventsFunction;
    const queueId = id(stack.email.eventsDeadLetterQueue);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      TopicArn: { Ref: id(stack.email.eventsTopic) },
      Endpoint: { 'Fn::GetAtt': [id(fn), 'Arn'] },
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'sns.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [id(fn), 'Arn'] },
      SourceArn: { Ref: id(stack.email.eventsTopic) },
    });
    const queue = resources('AWS::SQS::Queue')[queueId].Properties;
    expect(queue.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [id(stack.email.eventsKey), 'Arn'] });
    expect(queue.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    const queuePolicy = Object.values(resources('AWS::SQS::QueuePolicy')).find((p) => json(p.Properties.Queues).includes(queueId))!;
    const queueStatements = queuePolicy.Properties.PolicyDocument.Statement as Array<Record<string, any>>;
    expect(queueStatements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    expect(queueStatements).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Principal: { Service: 'sns.amazonaws.com' },
        Condition: { ArnEquals: { 'aws:SourceArn': { Ref: id(stack.email.eventsTopic) } } },
      }),
    );
    // SNS writes to the queue through the key, so the key policy must let SNS use it.
    const keyStatements = resources('AWS::KMS::Key')[id(stack.email.eventsKey)].Properties.KeyPolicy.Statement as Array<Record<string, any>>;
    expect(keyStatements).toContainEqual(
      expect.objectContaining({ Principal: { Service: 'sns.amazonaws.com' }, Action: ['kms:GenerateDataKey', 'kms:Decrypt'] }),
    );
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: id(fn) },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    });
  });

  it('the events Lambda runs the email-events handler with the table and nothing else in its environment', () => {
    const deployed = template.toJSON().Resources[id(stack.email.eventsFunction)].Properties;
    expect(deployed.Handler).toBe('index.handler');
    expect(deployed.Environment.Variables).toEqual({
      NODE_OPTIONS: '--enable-source-maps',
      BILLOW_RUNTIME: 'aws',
      BILLOW_TABLE: resolve(stack.data.table.tableName),
      POWERTOOLS_SERVICE_NAME: 'billow',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    });
  });
});

describe('blob bucket (mail bodies and attachments too big for an item)', () => {
  const bucketProps = (bucket: { node: { defaultChild?: unknown } }) => resources('AWS::S3::Bucket')[id(bucket)];
  const policyStatements = (bucket: { node: { defaultChild?: unknown } }) => {
    const policy = Object.values(resources('AWS::S3::BucketPolicy')).find((p) => json(p.Properties.Bucket) === json({ Ref: id(bucket) }));
    return (policy?.Properties.PolicyDocument.Statement ?? []) as Array<Record<string, any>>;
  };
  const privateBucket = {
    PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
  };

  it('the blob bucket and its access-log bucket: private, encrypted, TLS only, unversioned, retained', () => {
    // These two, and the imports bucket and its access-log bucket (test/lib/imports.integration.test.ts).
    template.resourceCountIs('AWS::S3::Bucket', 4);
    for (const bucket of [stack.email.blobBucket, stack.email.blobAccessLogs]) {
      const deployed = bucketProps(bucket);
      expect(deployed.Properties).toMatchObject(privateBucket);
      expect(deployed.Properties.VersioningConfiguration).toBeUndefined();
      expect(deployed.Properties.AccessControl).toBeUndefined();
      expect(deployed.DeletionPolicy).toBe('Retain');
      expect(policyStatements(bucket)).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });

  it('logs server access to the log bucket, which S3 log delivery may write to for this bucket only; lifecycle rules', () => {
    const blob = bucketProps(stack.email.blobBucket).Properties;
    expect(blob.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: id(stack.email.blobAccessLogs) }, LogFilePrefix: 'blobs/' });
    const delivery = policyStatements(stack.email.blobAccessLogs).find((st) => st.Effect === 'Allow');
    expect(delivery).toMatchObject({ Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject' });
    expect(delivery!.Condition.ArnLike['aws:SourceArn']).toEqual(resolve(stack.email.blobBucket.bucketArn));
    expect(delivery!.Condition.StringEquals['aws:SourceAccount']).toBe(TEST_ENV.account);
    expect(blob.LifecycleConfiguration.Rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
        expect.objectContaining({ Status: 'Enabled', Transitions: [{ StorageClass: 'INTELLIGENT_TIERING', TransitionInDays: BLOB_TIERING_AFTER.toDays() }] }),
      ]),
    );
    // Only clients exports expire (a day); mail bodies and attachments are kept with their mail-log entries.
    expect(blob.LifecycleConfiguration.Rules.filter((rule: Record<string, unknown>) => 'ExpirationInDays' in rule)).toEqual([
      expect.objectContaining({ Status: 'Enabled', Prefix: EXPORT_KEY_PREFIX, ExpirationInDays: 1 }),
    ]);
    const logs = bucketProps(stack.email.blobAccessLogs).Properties;
    expect(logs.LoggingConfiguration).toBeUndefined();
    expect(logs.LifecycleConfiguration.Rules).toEqual([expect.objectContaining({ Status: 'Enabled', ExpirationInDays: BLOB_ACCESS_LOG_RETENTION.toDays() })]);
  });

  it('only the mailing areas reach the bucket, on its mail/ objects; only clients may delete; nothing lists or touches the log bucket', () => {
    expect(mailBodyKey('co_1', 'mail_1').startsWith(BLOB_KEY_PREFIX)).toBe(true);
    expect(mailAttachmentKey('co_1', 'mail_1', 0).startsWith(BLOB_KEY_PREFIX)).toBe(true);
    expect(clientExportKey('co_1', 'x', 'clients.csv').startsWith(EXPORT_KEY_PREFIX)).toBe(true);
    const objects = json(resolve(stack.email.blobBucket.arnForObjects(`${BLOB_KEY_PREFIX}*`)));
    const exportObjects = json(resolve(stack.email.blobBucket.arnForObjects(`${EXPORT_KEY_PREFIX}*`)));
    const importObjects = Object.fromEntries(
      ['imports/', 'reports/'].map((prefix) => [json(resolve(stack.imports.bucket.arnForObjects(`${prefix}*`))), `imports bucket ${prefix}*`]),
    );
    const fns = [...Object.values(stack.api.functions), ...stack.identity.triggers, stack.email.eventsFunction];
    const s3Grants = Object.fromEntries(
      fns.map((fn) => [
        fn.node.id,
        grantsOfRole(template, id(fn.executionRole))
          .filter((g) => g.action.startsWith('s3:'))
          .map(
            (g) => `${g.action} ${g.resource === objects ? 'mail/*' : g.resource === exportObjects ? 'exports/*' : (importObjects[g.resource] ?? g.resource)}`,
          )
          .sort(),
      ]),
    );
    const readWrite = ['s3:GetObject mail/*', 's3:PutObject mail/*'];
    expect(s3Grants).toEqual({
      PlatformFunction: [],
      CompaniesFunction: [],
      ClientsFunction: ['s3:AbortMultipartUpload exports/*', 's3:DeleteObject mail/*', 's3:GetObject exports/*', ...readWrite, 's3:PutObject exports/*'].sort(),
      BillingFunction: readWrite,
      EmailFunction: readWrite,
      PackagesFunction: [],
      AutomationFunction: [],
      // Not the blob bucket: its uploads and error reports, in the imports bucket (test/lib/imports.integration.test.ts).
      ImportsFunction: ['s3:GetObject imports bucket reports/*', 's3:PutObject imports bucket imports/*'],
      DefineAuthChallenge: [],
      CreateAuthChallenge: [],
      VerifyAuthChallenge: [],
      EmailEvents: [],
    });
  });
});

describe('deployment settings (context)', () => {
  it('gateway=stripe: a Stripe secret that only billing reads, and billing selects the Stripe gateway', () => {
    const built = buildTemplate({ gateway: 'stripe' });
    const secret = built.stack.payments.gatewaySecret!;
    expect(secret).toBeDefined();
    const billingId = built.stack.getLogicalId(built.stack.api.functions.billing.node.defaultChild as never);
    const variables = built.template.toJSON().Resources[billingId].Properties.Environment.Variables;
    expect(variables.BILLOW_GATEWAY).toBe('stripe');
    expect(variables.BILLOW_STRIPE_SECRET_ARN).toEqual(built.stack.resolve(secret.secretArn));
    const secretArn = json(built.stack.resolve(secret.secretArn));
    const fns = [...Object.values(built.stack.api.functions), ...built.stack.identity.triggers, built.stack.email.eventsFunction];
    for (const fn of fns) {
      const roleId = built.stack.getLogicalId(fn.executionRole.node.defaultChild as never);
      const reads = grantsOfRole(built.template, roleId)
        .filter((g) => g.resource === secretArn)
        .map((g) => g.action)
        .sort();
      expect(reads, fn.node.id).toEqual(fn === built.stack.api.functions.billing ? ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'] : []);
    }
    built.template.resourceCountIs('AWS::SecretsManager::Secret', 2);
  });

  it('mailDomain and appUrl reach the SES identity and the mailers` environment', () => {
    const built = buildTemplate({ mailDomain: 'Mail.Acme.test', appUrl: 'https://billing.acme.test/' });
    built.template.hasResourceProperties('AWS::SES::EmailIdentity', { EmailIdentity: 'mail.acme.test' });
    const clientsId = built.stack.getLogicalId(built.stack.api.functions.clients.node.defaultChild as never);
    const variables = built.template.toJSON().Resources[clientsId].Properties.Environment.Variables;
    expect(variables.BILLOW_MAIL_FROM).toBe('billing@mail.acme.test');
    expect(variables.BILLOW_APP_URL).toBe('https://billing.acme.test');
    expect(variables.BILLOW_GATEWAY).toBeUndefined();
  });

  it('the gateway is chosen explicitly: without one there is no stack; the simulator is said at synth and on the dashboard', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    expect(() => new BillowStack(app, 'Billow', { env: TEST_ENV, routes: allRoutes })).toThrow(/-c gateway=stripe .* -c gateway=simulator/);
    const simulated = buildTemplate({ gateway: 'simulator' });
    const warnings = Annotations.fromStack(simulated.stack).findWarning('*', Match.stringLikeRegexp('Payments go through the simulator'));
    expect(warnings).toHaveLength(1);
    const dashboard = (template: Template) => json(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0].Properties.DashboardBody);
    expect(dashboard(simulated.template)).toContain('Payments go through the simulator');
    const live = buildTemplate({ gateway: 'stripe' });
    expect(Annotations.fromStack(live.stack).findWarning('*', Match.stringLikeRegexp('simulator'))).toHaveLength(0);
    expect(dashboard(live.template)).not.toContain('simulator');
  });

  it('rejects settings that would deploy a broken stack', () => {
    expect(() => buildStack(testApp({ gateway: 'paypal' }))).toThrow(/gateway/);
    expect(() => buildStack(testApp({ gateway: 'local' }))).toThrow(/gateway/);
    expect(() => buildStack(testApp({ mailDomain: 'acme.test', mailFrom: 'billing@other.test' }))).toThrow(/not at the SES identity/);
    expect(() => buildStack(testApp({ appUrl: 'ftp://acme.test' }))).toThrow(/appUrl/);
  });
});

describe('observability', () => {
  it('alarms on API 5xx, on errors of every function, and on the SES events, reconciler, automation and imports dead-letter queues', () => {
    const alarms = Object.values(resources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    expect(alarms.some((a) => a.MetricName === '5xx' && a.Namespace === 'AWS/ApiGateway')).toBe(true);
    const errorAlarms = alarms.filter((a) => a.MetricName === 'Errors' && a.Namespace === 'AWS/Lambda');
    expect(errorAlarms).toHaveLength(API_AREAS.length + 3 + 1 + 1 + 2 + 1);
    const fnNames = errorAlarms.map((a) => json(a.Dimensions));
    expect(fnNames.some((d) => d.includes(id(stack.email.eventsFunction)))).toBe(true);
    expect(fnNames.some((d) => d.includes(id(stack.reconciler.function)))).toBe(true);
    expect(fnNames.some((d) => d.includes(id(stack.imports.worker)))).toBe(true);
    const dlq = alarms.filter((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible' && a.Namespace === 'AWS/SQS');
    expect(dlq).toHaveLength(4);
    for (const queue of [
      stack.email.eventsDeadLetterQueue,
      stack.reconciler.deadLetterQueue,
      stack.automation.deadLetterQueue,
      stack.imports.deadLetterQueue,
    ]) {
      expect(dlq.filter((a) => json(a.Dimensions).includes(id(queue)))).toHaveLength(1);
    }
    for (const alarm of dlq) expect(alarm.Threshold).toBe(1);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { API_AREAS, routeKey } from '../../functions/http/route.js';
import { allRoutes } from '../../functions/http/route-table.js';
import { TABLE_DESIGN } from '../../functions/store/table-design.js';
import type { BillowStack } from '../../lib/billow-stack.js';
import { COGNITO_ADMIN_ACTIONS, ROLE_GROUPS } from '../../lib/identity.js';
import { API_THROTTLE } from '../../lib/api.js';
import { NODE_RUNTIME, type BillowFunction } from '../../lib/function.js';
import { buildTemplate, grantsOfRole, json, TEST_ENV, type Grant, type Resource } from './build.js';

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

  it('one Lambda per API area, plus the three Cognito triggers, all on the newest Node runtime, ARM, traced', () => {
    const functions = resources('AWS::Lambda::Function');
    expect(Object.keys(functions)).toHaveLength(API_AREAS.length + 3);
    for (const fn of Object.values(functions)) {
      expect(fn.Properties).toMatchObject({ Runtime: NODE_RUNTIME.name, Architectures: ['arm64'], TracingConfig: { Mode: 'Active' } });
      expect(fn.Properties.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
    }
    expect(NODE_RUNTIME.name).toBe('nodejs24.x');
  });

  it('each API Lambda runs its area handler with the environment the code reads', () => {
    for (const area of API_AREAS) {
      const fn = apiFunction(area);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: `Billow API: ${area} routes`,
        Handler: 'index.handler',
        MemorySize: 1024,
        Timeout: 20,
        LoggingConfig: { LogGroup: { Ref: id(fn.functionLogGroup) } },
        Environment: {
          Variables: {
            NODE_OPTIONS: '--enable-source-maps',
            BILLOW_RUNTIME: 'aws',
            BILLOW_TABLE: resolve(stack.data.table.tableName),
            BILLOW_USER_POOL_ID: resolve(stack.identity.userPool.userPoolId),
            BILLOW_USER_POOL_CLIENT_ID: resolve(stack.identity.client.userPoolClientId),
            BILLOW_SIGNING_SECRET_ARN: resolve(stack.api.signingSecret.secretArn),
            POWERTOOLS_SERVICE_NAME: 'billow',
            POWERTOOLS_LOG_LEVEL: 'INFO',
          },
        },
      });
    }
  });

  it('every function has its own log group with a retention', () => {
    const groups = resources('AWS::Logs::LogGroup');
    const fns = [...API_AREAS.map(apiFunction), ...stack.identity.triggers];
    for (const fn of fns) expect(groups[id(fn.functionLogGroup)].Properties.RetentionInDays).toBeGreaterThan(0);
  });

  it('the signing secret is generated, at least 32 characters', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ PasswordLength: Match.anyValue() }),
    });
    const secret = Object.values(resources('AWS::SecretsManager::Secret'))[0].Properties;
    expect(secret.GenerateSecretString.PasswordLength).toBeGreaterThanOrEqual(32);
  });
});

describe('HTTP API', () => {
  const routes = () => Object.values(resources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties);

  it('has one route per entry of the route table, plus $default', () => {
    const keys = routes().map((r) => r.RouteKey).sort();
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

  it('API functions: the identity adapter`s Cognito admin actions on the pool only, and read of the signing secret', () => {
    const poolArn = json(resolve(stack.identity.userPool.userPoolArn));
    const secretArn = json(resolve(stack.api.signingSecret.secretArn));
    for (const area of API_AREAS) {
      const grants = grantsOfRole(template, roleId(stack.api.functions[area]));
      expect(pairs(byService(grants, 'cognito-idp')), area).toEqual(pairs(COGNITO_ADMIN_ACTIONS.map((action) => ({ action, resource: poolArn }))));
      expect(pairs(byService(grants, 'secretsmanager')), area).toEqual(
        pairs(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'].map((action) => ({ action, resource: secretArn }))),
      );
      const services = new Set(grants.map((g) => g.action.split(':')[0]));
      expect([...services].sort(), area).toEqual(['cognito-idp', 'dynamodb', 'logs', 'secretsmanager', 'xray']);
    }
  });

  it('every function writes only to its own log group; a wildcard resource appears only for X-Ray', () => {
    const fns = [...Object.values(stack.api.functions), ...stack.identity.triggers];
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

describe('observability', () => {
  it('alarms on API 5xx and on errors of every function', () => {
    const alarms = Object.values(resources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    expect(alarms.some((a) => a.MetricName === '5xx' && a.Namespace === 'AWS/ApiGateway')).toBe(true);
    const errorAlarms = alarms.filter((a) => a.MetricName === 'Errors' && a.Namespace === 'AWS/Lambda');
    expect(errorAlarms).toHaveLength(API_AREAS.length + 3);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});

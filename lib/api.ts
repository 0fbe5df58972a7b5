import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Duration, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { buildOpenApi, OPENAPI_FILE } from '../functions/http/openapi.js';
import { API_AREAS, routeKey, type AnyRoute, type ApiArea } from '../functions/http/route.js';
import { REDOC_FILE, REDOC_PACKAGE_PATH } from '../functions/platform/docs-page.js';
import type { Services } from '../functions/services.js';
import type { BillowTable, TableAccess } from './data.js';
import type { BillowEmail } from './email.js';
import { BillowFunction, functionEntry, type BlobAccess } from './function.js';
import type { BillowIdentity } from './identity.js';

/** Default stage throttling (requests per second, steady and burst). */
export const API_THROTTLE = { rateLimit: 100, burstLimit: 200 } as const;

/** Headers web clients send and read. */
const CORS_ALLOW_HEADERS = ['authorization', 'content-type', 'idempotency-key', 'if-match', 'accept'];
const CORS_EXPOSE_HEADERS = ['x-request-id', 'retry-after', 'etag', 'location', 'content-disposition'];

/**
 * An adapter of `getServices()` (`functions/services.ts`) an area's code calls; each is bound with its grant and
 * its environment, and an area gets only the ones it uses (its bundle holds no other adapter's code or SDK client):
 * - `identity`: Cognito admin actions on the pool (`bindIdentity`);
 * - `secrets`: the cursor-signing secret, for any area with list routes (`encodeCursor`/`decodeCursor`);
 * - `mailer`: SES send from the sender identity through the configuration set (`bindMailer`);
 * - `cipher`: GenerateDataKey/Decrypt on the payment-details KMS key (`bindPaymentKey`);
 * - `gateway`: the Stripe secret key, bound only when the stack is deployed with `gateway=stripe`;
 * - `blobs`: objects of the blob bucket, with the accesses the area's `blobs` lists (`bindBlobs`);
 * - `workflow`: states:StartExecution on the automation state machine only (`bindWorkflow`);
 * - `importFiles`: the imports bucket, as an API area uses it (`bindImportFiles` with `upload`: presigned PUTs under
 *   `imports/`, error reports read under `reports/`);
 * - `importQueue`: sqs:SendMessage on the imports queue only (`bindImportQueue`).
 */
export type Capability = keyof Services;

export interface AreaAccess {
  table: TableAccess;
  uses: readonly Capability[];
  /** What the area does in the blob store; required when `uses` has `blobs`. */
  blobs?: readonly BlobAccess[];
}

/**
 * What each API area may use, read from its code (route handlers and what they import):
 * - platform: the token route signs in through Cognito; health, docs and the 404 fallback touch nothing else;
 * - companies: creating a company creates its first staff login; company and group lists have cursors;
 * - clients: client logins (create, enable/disable, delete, login-as, set-password), registration and
 *   login-details mail, lists with cursors;
 * - billing: invoice, receipt, decline and statement mail, payment-account details sealed with KMS, the gateway,
 *   lists with cursors; it never touches logins (it only checks a client token's own id);
 * - email: manual mail, re-sends and set-password links (table items only, no Cognito call), mail-log and
 *   template lists with cursors;
 * - packages: packages and services, the invoice of a service's first term (table items only), lists with cursors;
 * - automation: starting a run (its record, the company's run lock, the execution), run and action lists with cursors.
 * Every area that sends mail writes bodies and attachments too big for a mail-log item to the blob store and reads
 * them back (`readWrite`); the clients area also deletes them with a client (`delete`).
 * Every area runs transactions and batch writes of its own records, so each keeps `readWrite` on the table.
 */
export const AREA_ACCESS: Record<ApiArea, AreaAccess> = {
  platform: { table: 'readWrite', uses: ['identity'] },
  companies: { table: 'readWrite', uses: ['identity', 'secrets'] },
  clients: { table: 'readWrite', uses: ['identity', 'mailer', 'blobs', 'secrets'], blobs: ['readWrite', 'delete', 'export'] },
  billing: { table: 'readWrite', uses: ['mailer', 'blobs', 'cipher', 'gateway', 'secrets'], blobs: ['readWrite'] },
  email: { table: 'readWrite', uses: ['mailer', 'blobs', 'secrets'], blobs: ['readWrite'] },
  packages: { table: 'readWrite', uses: ['secrets'] },
  automation: { table: 'readWrite', uses: ['secrets', 'workflow'] },
  imports: { table: 'readWrite', uses: ['secrets', 'importFiles'] },
};

/** The area whose function answers requests that match no route (`$default`), with a 404 problem document. */
const FALLBACK_AREA: ApiArea = 'platform';

/**
 * The area whose function serves `/openapi.json` and `/docs`. It gets the document built here from the route table
 * (`OPENAPI_FILE` next to its bundle), so its bundle holds none of the other areas' routes, and the reference page's
 * script (`REDOC_FILE`, from the installed package), so the page loads nothing from a CDN.
 */
const DOCS_AREA: ApiArea = 'platform';

export interface BillowApiProps {
  table: BillowTable;
  identity: BillowIdentity;
  email: BillowEmail;
  /** The KMS key of stored payment details. */
  paymentKey: kms.IKey;
  /** The Stripe secret key; absent unless the stack is deployed with `gateway=stripe` (the simulator is used then). */
  gatewaySecret?: secretsmanager.ISecret;
  /** The automation's run state machine, for the areas that use `workflow`. */
  stateMachine?: sfn.IStateMachine;
  /** The imports bucket and queue (lib/imports.ts), for the areas that use `importFiles` or `importQueue`. */
  imports?: { bucket: s3.IBucket; queue: sqs.IQueue };
  /** The route table (`functions/http/route-table.ts`); passed in so tests can build the API from any table. */
  routes: readonly AnyRoute[];
}

/** Construct id of a route: unique per method and path, readable in the construct tree. */
export function routeConstructId(route: { method: string; path: string }): string {
  return `${route.method}${route.path.replace(/\//g, '|')}`;
}

/**
 * The HTTP API: one Lambda per API area (`functions/<area>/handler.ts`), one API Gateway route per entry of the
 * route table, Cognito's JWT authorizer on every route that is not public.
 */
export class BillowApi extends Construct {
  readonly httpApi: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly functions: Record<ApiArea, BillowFunction>;
  readonly signingSecret: secretsmanager.Secret;
  readonly accessLogs: logs.LogGroup;
  readonly url: string;

  constructor(scope: Construct, id: string, props: BillowApiProps) {
    super(scope, id);

    this.signingSecret = new secretsmanager.Secret(this, 'CursorSigningSecret', {
      description: 'Billow: HMAC key that signs list cursors',
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
    });
    Validations.of(this.signingSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The secret is an HMAC key for list cursors only, not a credential of another system. Rotating it would invalidate every cursor a client holds mid-list; it is replaced by hand if ever exposed.',
    });

    const bind: Record<Capability, (fn: BillowFunction, access: AreaAccess) => BillowFunction> = {
      identity: (fn) => fn.bindIdentity(props.identity),
      secrets: (fn) => fn.bindSigningSecret(this.signingSecret),
      mailer: (fn) => fn.bindMailer(props.email),
      cipher: (fn) => fn.bindPaymentKey(props.paymentKey),
      gateway: (fn) => (props.gatewaySecret ? fn.bindGatewaySecret(props.gatewaySecret) : fn),
      workflow: (fn) => {
        if (!props.stateMachine) throw new Error(`${fn.node.id} uses the workflow but the API was given no state machine`);
        return fn.bindWorkflow(props.stateMachine);
      },
      importFiles: (fn) => {
        if (!props.imports) throw new Error(`${fn.node.id} uses the imports bucket but the API was given none`);
        return fn.bindImportFiles(props.imports.bucket, 'upload');
      },
      importQueue: (fn) => {
        if (!props.imports) throw new Error(`${fn.node.id} uses the imports queue but the API was given none`);
        return fn.bindImportQueue(props.imports.queue);
      },
      blobs: (fn, access) => {
        if (!access.blobs?.length) throw new Error(`${fn.node.id} uses blobs but its AREA_ACCESS entry lists no blob access`);
        for (const blobAccess of new Set(access.blobs)) fn.bindBlobs(props.email.blobBucket, blobAccess);
        return fn;
      },
    };
    const docsFiles = {
      [OPENAPI_FILE]: JSON.stringify(buildOpenApi(props.routes)),
      [REDOC_FILE]: readFileSync(createRequire(import.meta.url).resolve(REDOC_PACKAGE_PATH), 'utf8'),
    };
    const functions = {} as Record<ApiArea, BillowFunction>;
    for (const area of API_AREAS) {
      const areaAccess = AREA_ACCESS[area];
      if (!areaAccess) throw new Error(`API area '${area}' has no entry in AREA_ACCESS`);
      const fn = new BillowFunction(this, `${pascal(area)}Function`, {
        entry: functionEntry(area, 'handler.ts'),
        description: `Billow API: ${area} routes`,
        environment: {
          BILLOW_RUNTIME: 'aws',
          POWERTOOLS_SERVICE_NAME: 'billow',
          POWERTOOLS_LOG_LEVEL: 'INFO',
        },
        files: area === DOCS_AREA ? docsFiles : undefined,
        // Its bundle holds the adapters it may use and no other (`functions/services.ts`).
        adapters: areaAccess.uses,
      }).bindTable(props.table, areaAccess.table);
      for (const capability of new Set(areaAccess.uses)) bind[capability](fn, areaAccess);
      functions[area] = fn;
    }
    this.functions = functions;

    this.httpApi = new apigw.HttpApi(this, 'HttpApi', {
      apiName: 'billow',
      description: 'Billow HTTP API (see API.md)',
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: ['*'],
        allowMethods: [
          apigw.CorsHttpMethod.GET,
          apigw.CorsHttpMethod.POST,
          apigw.CorsHttpMethod.PUT,
          apigw.CorsHttpMethod.PATCH,
          apigw.CorsHttpMethod.DELETE,
          apigw.CorsHttpMethod.OPTIONS,
        ],
        allowHeaders: CORS_ALLOW_HEADERS,
        exposeHeaders: CORS_EXPOSE_HEADERS,
        // Bearer tokens, no cookies: credentials are never needed, which is what allows `*` origins.
        allowCredentials: false,
        maxAge: Duration.hours(1),
      },
    });

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.THREE_MONTHS });
    this.stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { ...API_THROTTLE },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            method: '$context.httpMethod',
            path: '$context.path',
            routeKey: '$context.routeKey',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            responseLatency: '$context.responseLatency',
            integrationLatency: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
            error: '$context.error.message',
          }),
        ),
      },
    });
    this.url = this.stage.url;

    const authorizer = new HttpJwtAuthorizer('CognitoJwt', props.identity.issuer, {
      jwtAudience: [props.identity.client.userPoolClientId],
    });
    const none = new apigw.HttpNoneAuthorizer();
    // One integration (and one invoke permission scoped to this API) per area, shared by its routes: a
    // permission per route would outgrow the Lambda resource-policy size limit.
    const integrations = Object.fromEntries(
      API_AREAS.map((area) => [area, new HttpLambdaIntegration(`${pascal(area)}Integration`, functions[area], { scopePermissionToRoute: false })]),
    ) as Record<ApiArea, HttpLambdaIntegration>;

    const routesScope = new Construct(this, 'Routes');
    const seen = new Set<string>();
    for (const route of props.routes) {
      const key = routeKey(route);
      if (seen.has(key)) throw new Error(`Duplicate route in the route table: ${key}`);
      seen.add(key);
      const integration = integrations[route.area];
      if (!integration) throw new Error(`Route ${key} names area '${route.area}', which is not in API_AREAS`);
      const isPublic = route.access === 'public';
      const httpRoute = new apigw.HttpRoute(routesScope, routeConstructId(route), {
        httpApi: this.httpApi,
        routeKey: apigw.HttpRouteKey.with(route.path, apigw.HttpMethod[route.method]),
        integration,
        authorizer: isPublic ? none : authorizer,
      });
      if (isPublic) {
        Validations.of(httpRoute).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: `${key} is public by contract (API.md, Conventions: health, docs, token and set-password routes need no token).`,
        });
      }
    }

    // Anything that matches no route gets the API's own 404 problem document instead of API Gateway's
    // `{"message":"Not Found"}`.
    const fallback = new apigw.HttpRoute(routesScope, 'Default', {
      httpApi: this.httpApi,
      routeKey: apigw.HttpRouteKey.DEFAULT,
      integration: integrations[FALLBACK_AREA],
      authorizer: none,
    });
    Validations.of(fallback).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason: 'The $default route only answers requests that match no route, always with a 404 problem document; it reads and changes nothing.',
    });
  }
}

function pascal(name: string): string {
  return name
    .split(/[^a-zA-Z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('');
}

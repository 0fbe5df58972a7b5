import { Duration, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { API_AREAS, routeKey, type AnyRoute, type ApiArea } from '../functions/http/route.js';
import type { BillowTable } from './data.js';
import { BillowFunction, functionEntry } from './function.js';
import type { BillowIdentity } from './identity.js';

/** Default stage throttling (requests per second, steady and burst). */
export const API_THROTTLE = { rateLimit: 100, burstLimit: 200 } as const;

/** Headers web clients send and read. */
const CORS_ALLOW_HEADERS = ['authorization', 'content-type', 'idempotency-key', 'if-match', 'accept'];
const CORS_EXPOSE_HEADERS = ['x-request-id', 'retry-after', 'etag', 'location', 'content-disposition'];

/** The area whose function answers requests that match no route (`$default`), with a 404 problem document. */
const FALLBACK_AREA: ApiArea = 'platform';

export interface BillowApiProps {
  table: BillowTable;
  identity: BillowIdentity;
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

    const functions = {} as Record<ApiArea, BillowFunction>;
    for (const area of API_AREAS) {
      functions[area] = new BillowFunction(this, `${pascal(area)}Function`, {
        entry: functionEntry(area, 'handler.ts'),
        description: `Billow API: ${area} routes`,
        environment: {
          BILLOW_RUNTIME: 'aws',
          POWERTOOLS_SERVICE_NAME: 'billow',
          POWERTOOLS_LOG_LEVEL: 'INFO',
        },
      })
        .bindTable(props.table, 'readWrite')
        .bindIdentity(props.identity)
        .bindSigningSecret(this.signingSecret);
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

import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { TOKEN_LIFETIME_SECONDS } from '../functions/adapters/identity/port.js';
import type { BillowTable } from './data.js';
import { BillowFunction, functionEntry } from './function.js';

/** The Cognito actions `functions/adapters/identity/cognito.ts` calls; granted on the pool only. */
export const COGNITO_ADMIN_ACTIONS = [
  'cognito-idp:AdminAddUserToGroup',
  'cognito-idp:AdminCreateUser',
  'cognito-idp:AdminDeleteUser',
  'cognito-idp:AdminDisableUser',
  'cognito-idp:AdminEnableUser',
  'cognito-idp:AdminGetUser',
  'cognito-idp:AdminInitiateAuth',
  'cognito-idp:AdminRespondToAuthChallenge',
  'cognito-idp:AdminSetUserPassword',
  'cognito-idp:AdminUpdateUserAttributes',
] as const;

export const ROLE_GROUPS = ['operator', 'staff', 'client'] as const;

export interface BillowIdentityProps {
  /** The verify-auth-challenge trigger consumes one-time "login as" answers from the table. */
  table: BillowTable;
}

/**
 * Cognito: one user pool for every company (usernames are `<companyId>:<username>`, see `scopedUsername`),
 * one app client used only by the API's server-side admin flows, and the CUSTOM_AUTH triggers behind staff
 * "login as".
 */
export class BillowIdentity extends Construct {
  readonly userPool: cognito.UserPool;
  readonly client: cognito.UserPoolClient;
  readonly triggers: BillowFunction[];
  /** `https://cognito-idp.<region>.amazonaws.com/<poolId>`: the `iss` of the pool's tokens. */
  readonly issuer: string;

  constructor(scope: Construct, id: string, props: BillowIdentityProps) {
    super(scope, id);

    const trigger = (name: string, handler: string) =>
      new BillowFunction(this, name, {
        entry: functionEntry('identity-triggers', 'handler.ts'),
        handler,
        description: `Cognito ${name} trigger (staff "login as")`,
        memorySize: 256,
        // Cognito waits at most 5 seconds for a trigger.
        timeout: Duration.seconds(5),
        environment: { POWERTOOLS_SERVICE_NAME: 'billow', POWERTOOLS_LOG_LEVEL: 'INFO' },
        // The triggers read and delete the login-as answer in the table, nothing else.
        adapters: [],
      });
    const define = trigger('DefineAuthChallenge', 'defineAuthChallenge');
    const create = trigger('CreateAuthChallenge', 'createAuthChallenge');
    const verify = trigger('VerifyAuthChallenge', 'verifyAuthChallenge').bindTable(props.table, 'deleteOnly');
    this.triggers = [define, create, verify];

    this.userPool = new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      signInAliases: { username: true },
      signInCaseSensitive: false,
      // The API never lets Cognito mail users: login details and set-password links are Billow's own.
      autoVerify: {},
      accountRecovery: cognito.AccountRecovery.NONE,
      // Matches the API contract (8–128 characters, no composition rules), so AWS and the local stack accept
      // the same passwords. See the AwsSolutions-COG1 acknowledgement below.
      passwordPolicy: {
        minLength: 8,
        requireLowercase: false,
        requireUppercase: false,
        requireDigits: false,
        requireSymbols: false,
        tempPasswordValidity: Duration.days(1),
      },
      customAttributes: {
        role: new cognito.StringAttribute({ minLen: 1, maxLen: 16, mutable: true }),
        companyId: new cognito.StringAttribute({ maxLen: 64, mutable: true }),
        clientId: new cognito.StringAttribute({ maxLen: 64, mutable: true }),
        username: new cognito.StringAttribute({ minLen: 1, maxLen: 1000, mutable: true }),
      },
      mfa: cognito.Mfa.OFF,
      featurePlan: cognito.FeaturePlan.ESSENTIALS,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lambdaTriggers: {
        defineAuthChallenge: define,
        createAuthChallenge: create,
        verifyAuthChallengeResponse: verify,
      },
    });

    for (const group of ROLE_GROUPS) {
      this.userPool.addGroup(`${group[0].toUpperCase()}${group.slice(1)}Group`, { groupName: group, description: `Billow ${group} logins` });
    }

    const readable = new cognito.ClientAttributes()
      .withStandardAttributes({ email: true, emailVerified: true })
      .withCustomAttributes('role', 'companyId', 'clientId', 'username');
    this.client = this.userPool.addClient('ApiClient', {
      generateSecret: false,
      authFlows: { adminUserPassword: true, custom: true },
      disableOAuth: true,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      idTokenValidity: Duration.seconds(TOKEN_LIFETIME_SECONDS),
      accessTokenValidity: Duration.seconds(TOKEN_LIFETIME_SECONDS),
      refreshTokenValidity: Duration.days(1),
      authSessionValidity: Duration.minutes(3),
      readAttributes: readable,
      // Role, company and client must never be writable by a user holding one of its own tokens.
      writeAttributes: new cognito.ClientAttributes().withStandardAttributes({ locale: true }),
    });

    this.issuer = `https://cognito-idp.${this.userPool.stack.region}.amazonaws.com/${this.userPool.userPoolId}`;

    Validations.of(this.userPool).acknowledge({
      id: 'AwsSolutions-COG1',
      reason:
        'The API contract (API.md, Conventions) accepts any password of 8–128 characters; the pool enforces the same minimum so the AWS and local stacks accept the same passwords (NIST SP 800-63B advises length over composition rules). Cognito still locks out repeated failures and the API is throttled.',
    });
    Validations.of(this.userPool).acknowledge({
      id: 'AwsSolutions-COG2',
      reason:
        'The contract`s POST /v1/auth/token is a single username+password step that returns a token; there is no MFA step in the API. Users never talk to Cognito directly (server-side admin flows only).',
    });
    Validations.of(this.userPool).acknowledge({
      id: 'AwsSolutions-COG8',
      reason:
        'Plus-tier threat protection scores sign-ins by the caller`s device and IP, but every sign-in here is a server-side admin call from the API Lambda, so risk scores would see only Lambda addresses; Essentials is used and brute force is limited by Cognito lockout plus API throttling.',
    });
  }

  /** The Cognito admin actions of the identity adapter, on this pool only. */
  grantAdmin(grantee: iam.IGrantable): iam.Grant {
    return this.userPool.grant(grantee, ...COGNITO_ADMIN_ACTIONS);
  }
}

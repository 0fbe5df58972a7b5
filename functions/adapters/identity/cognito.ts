import { randomBytes } from 'node:crypto';
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  AdminGetUserCommand,
  AdminInitiateAuthCommand,
  AdminRespondToAuthChallengeCommand,
  AdminSetUserPasswordCommand,
  AdminUpdateUserAttributesCommand,
  CognitoIdentityProviderClient,
  type AttributeType,
} from '@aws-sdk/client-cognito-identity-provider';
import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { db } from '../../store/dynamo.js';
import { RuleViolationError, ConflictError, NotFoundError, ThrottledError, ValidationError } from '../../domain/errors.js';
import type { Role } from '../../domain/principal.js';
import { tracer } from '../../observability/tracer.js';
import { CLAIM } from './claims.js';
import { hashAnswer, LOGIN_AS_TTL_SECONDS, loginAsKey } from './login-as.js';
import { scopedUsername, TOKEN_LIFETIME_SECONDS, type IdentityProvider, type IssuedToken, type LoginUser } from './port.js';

let sharedClient: CognitoIdentityProviderClient | undefined;

/** Module-scoped client, reused across invocations. */
function defaultClient(): CognitoIdentityProviderClient {
  sharedClient ??= tracer.captureAWSv3Client(new CognitoIdentityProviderClient({}));
  return sharedClient;
}

/** A password Cognito accepts under any policy; nobody is told it (the user sets a new one). */
function randomPassword(): string {
  return `${randomBytes(24).toString('base64url')}aA1!`;
}

const nameOf = (error: unknown): string | undefined => (error instanceof Error ? error.name : undefined);

/** Errors every call can meet and that are not the caller's fault in a way a handler could fix. */
function mapCommonError(error: unknown, field: string = 'password'): never {
  switch (nameOf(error)) {
    case 'InvalidPasswordException':
      throw ValidationError.field(field, (error as Error).message || 'The password does not meet the password policy.');
    case 'TooManyRequestsException':
    case 'LimitExceededException':
      throw new ThrottledError('The identity provider is busy; retry shortly.', 1);
    default:
      throw error;
  }
}

const noLogin = () => new NotFoundError('No login exists for that user.');

/**
 * The identity provider in AWS: one Cognito user pool whose usernames are `scopedUsername(companyId, username)`.
 * Every call is a server-side admin call with the API's role; the app client has no secret and only the
 * ADMIN_USER_PASSWORD_AUTH and CUSTOM_AUTH flows. Tokens handed out are **ID tokens**, because only ID tokens
 * carry the custom attributes (`custom:role`, …) that become the principal.
 */
export class CognitoIdentityProvider implements IdentityProvider {
  private readonly client: CognitoIdentityProviderClient;
  private readonly documents: () => DynamoDBDocumentClient;

  constructor(
    private readonly userPoolId: string,
    private readonly userPoolClientId: string,
    private readonly tableName: string,
    client?: CognitoIdentityProviderClient,
    documentClient?: DynamoDBDocumentClient,
  ) {
    this.client = client ?? defaultClient();
    this.documents = documentClient ? () => documentClient : db;
  }

  async createUser(user: Omit<LoginUser, 'userId'> & { password: string; email?: string }): Promise<LoginUser> {
    const poolUsername = scopedUsername(user.companyId, user.username);
    const attributes: AttributeType[] = [
      { Name: CLAIM.role, Value: user.role },
      { Name: CLAIM.username, Value: user.username },
    ];
    if (user.companyId) attributes.push({ Name: CLAIM.companyId, Value: user.companyId });
    if (user.clientId) attributes.push({ Name: CLAIM.clientId, Value: user.clientId });
    if (user.email) attributes.push({ Name: 'email', Value: user.email }, { Name: 'email_verified', Value: 'true' });

    let sub: string;
    try {
      sub = await this.createPoolUser(poolUsername, attributes, user.password);
    } catch (error) {
      const made = error instanceof ConflictError && user.clientId ? await this.madeForClient(poolUsername, user.companyId, user.clientId) : undefined;
      if (!made) throw error;
      sub = made;
    }
    await this.finishUser(poolUsername, user.role, user.password);
    return { userId: sub, username: user.username, role: user.role, companyId: user.companyId, clientId: user.clientId };
  }

  /**
   * The pool user of a client's login that already exists for that very client: AdminCreateUser made it and its answer
   * was lost (the SDK's retry was then refused UsernameExists), or an earlier attempt of the same creation stopped
   * before its end. Its sub, to be finished and linked as if just made; undefined when the name is anyone else's.
   */
  private async madeForClient(poolUsername: string, companyId: string | undefined, clientId: string): Promise<string | undefined> {
    const existing = await this.requireUser(poolUsername).catch(() => undefined);
    const attribute = (name: string) => existing?.UserAttributes?.find((a) => a.Name === name)?.Value;
    if (attribute(CLAIM.clientId) !== clientId || attribute(CLAIM.companyId) !== companyId) return undefined;
    return attribute('sub') ?? existing?.Username;
  }

  /** AdminCreateUser without any message; the given password is also the temporary one, so the policy is checked before the user exists. */
  private async createPoolUser(poolUsername: string, attributes: AttributeType[], password: string): Promise<string> {
    try {
      const out = await this.client.send(
        new AdminCreateUserCommand({
          UserPoolId: this.userPoolId,
          Username: poolUsername,
          MessageAction: 'SUPPRESS',
          TemporaryPassword: password,
          UserAttributes: attributes,
        }),
      );
      const sub = out.User?.Attributes?.find((a) => a.Name === 'sub')?.Value;
      return sub ?? out.User?.Username ?? poolUsername;
    } catch (error) {
      if (nameOf(error) === 'UsernameExistsException') throw new ConflictError('That username is taken.', { field: 'username', code: 'duplicate_username' });
      if (nameOf(error) === 'InvalidParameterException') {
        // Cognito's own limits: an email it cannot parse, or a pool username over 128 characters.
        const message = (error as Error).message;
        throw ValidationError.field(/email/i.test(message) ? 'email' : 'username', message);
      }
      return mapCommonError(error);
    }
  }

  /** Makes the password permanent and puts the user in its role's group; undoes the creation if either fails. */
  private async finishUser(poolUsername: string, role: Role, password: string): Promise<void> {
    try {
      await this.client.send(new AdminSetUserPasswordCommand({ UserPoolId: this.userPoolId, Username: poolUsername, Password: password, Permanent: true }));
      await this.client.send(new AdminAddUserToGroupCommand({ UserPoolId: this.userPoolId, Username: poolUsername, GroupName: role }));
    } catch (error) {
      await this.client.send(new AdminDeleteUserCommand({ UserPoolId: this.userPoolId, Username: poolUsername })).catch(() => undefined);
      return mapCommonError(error);
    }
  }

  async authenticate(companyId: string | undefined, username: string, password: string): Promise<IssuedToken | null> {
    try {
      const out = await this.client.send(
        new AdminInitiateAuthCommand({
          UserPoolId: this.userPoolId,
          ClientId: this.userPoolClientId,
          AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: scopedUsername(companyId, username), PASSWORD: password },
        }),
      );
      return this.issued(out.AuthenticationResult);
    } catch (error) {
      switch (nameOf(error)) {
        // Wrong password, disabled user, too many failed attempts, unknown user (with or without
        // prevent-user-existence-errors), or a user in a state that cannot sign in with a password.
        case 'NotAuthorizedException':
        case 'UserNotFoundException':
        case 'UserNotConfirmedException':
        case 'PasswordResetRequiredException':
          return null;
        default:
          return mapCommonError(error);
      }
    }
  }

  /**
   * Staff "login as": a CUSTOM_AUTH sign-in whose only answer is a random secret the API just stored (hashed,
   * valid 60 s, consumed once by the verify-auth-challenge trigger). No password is involved or changed.
   */
  async issueToken(companyId: string | undefined, username: string): Promise<IssuedToken> {
    const poolUsername = scopedUsername(companyId, username);
    const user = await this.requireUser(poolUsername);
    if (user.Enabled === false) throw new RuleViolationError('That login is disabled.', { code: 'login_disabled' });
    const answer = randomBytes(32).toString('base64url');
    const key = loginAsKey(poolUsername);
    await this.documents().send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...key, entity: 'LoginAs', answerHash: hashAnswer(answer), expiresAt: Math.floor(Date.now() / 1000) + LOGIN_AS_TTL_SECONDS },
      }),
    );
    try {
      const started = await this.client.send(
        new AdminInitiateAuthCommand({
          UserPoolId: this.userPoolId,
          ClientId: this.userPoolClientId,
          AuthFlow: 'CUSTOM_AUTH',
          AuthParameters: { USERNAME: poolUsername },
        }),
      );
      if (started.ChallengeName !== 'CUSTOM_CHALLENGE') throw new Error(`Unexpected Cognito challenge ${started.ChallengeName ?? '(none)'}`);
      const answered = await this.client.send(
        new AdminRespondToAuthChallengeCommand({
          UserPoolId: this.userPoolId,
          ClientId: this.userPoolClientId,
          ChallengeName: 'CUSTOM_CHALLENGE',
          Session: started.Session,
          ChallengeResponses: { USERNAME: poolUsername, ANSWER: answer },
        }),
      );
      const token = this.issued(answered.AuthenticationResult);
      if (!token) throw new Error('Cognito did not issue tokens for the login-as challenge');
      return token;
    } catch (error) {
      // The trigger consumes the answer on success; on any failure make sure it cannot be used later.
      await this.documents()
        .send(new DeleteCommand({ TableName: this.tableName, Key: key }))
        .catch(() => undefined);
      if (nameOf(error) === 'UserNotFoundException') throw noLogin();
      return mapCommonError(error);
    }
  }

  async setPassword(companyId: string | undefined, username: string, password: string): Promise<void> {
    try {
      await this.client.send(
        new AdminSetUserPasswordCommand({ UserPoolId: this.userPoolId, Username: scopedUsername(companyId, username), Password: password, Permanent: true }),
      );
    } catch (error) {
      if (nameOf(error) === 'UserNotFoundException') throw noLogin();
      mapCommonError(error);
    }
  }

  async setEnabled(companyId: string | undefined, username: string, enabled: boolean): Promise<void> {
    const input = { UserPoolId: this.userPoolId, Username: scopedUsername(companyId, username) };
    try {
      await this.client.send(enabled ? new AdminEnableUserCommand(input) : new AdminDisableUserCommand(input));
    } catch (error) {
      if (nameOf(error) === 'UserNotFoundException') throw noLogin();
      mapCommonError(error);
    }
  }

  /**
   * Cognito cannot rename a user: this creates the new user with the old one's attributes (new username) and a
   * random password nobody knows, then deletes the old one. The login therefore has no usable password until
   * the client sets one (staff send `POST /v1/clients/{id}/send-login-details`), and it gets a new `sub`
   * (user id). The caller's uniqueness marker for the new username must already be in place.
   */
  async renameUser(companyId: string | undefined, from: string, to: string): Promise<void> {
    const fromPool = scopedUsername(companyId, from);
    const toPool = scopedUsername(companyId, to);
    if (fromPool === toPool) {
      // Only the case changed: the pool username stays; the username carried in tokens follows.
      await this.requireUser(fromPool);
      await this.client.send(
        new AdminUpdateUserAttributesCommand({ UserPoolId: this.userPoolId, Username: fromPool, UserAttributes: [{ Name: CLAIM.username, Value: to }] }),
      );
      return;
    }
    const old = await this.requireUser(fromPool);
    const attributes = (old.UserAttributes ?? [])
      .filter((a) => a.Name !== 'sub' && a.Name !== 'identities')
      .map((a) => (a.Name === CLAIM.username ? { Name: a.Name, Value: to } : a));
    const role = attributes.find((a) => a.Name === CLAIM.role)?.Value as Role | undefined;
    if (!role) throw new Error(`Cognito user ${fromPool} has no ${CLAIM.role}`);
    const password = randomPassword();
    await this.createPoolUser(toPool, attributes, password);
    await this.finishUser(toPool, role, password);
    if (old.Enabled === false) await this.client.send(new AdminDisableUserCommand({ UserPoolId: this.userPoolId, Username: toPool }));
    await this.deleteUser(companyId, from);
  }

  async deleteUser(companyId: string | undefined, username: string): Promise<void> {
    try {
      await this.client.send(new AdminDeleteUserCommand({ UserPoolId: this.userPoolId, Username: scopedUsername(companyId, username) }));
    } catch (error) {
      if (nameOf(error) === 'UserNotFoundException') return;
      mapCommonError(error);
    }
  }

  async findUser(companyId: string | undefined, username: string): Promise<LoginUser | undefined> {
    let user: Awaited<ReturnType<CognitoIdentityProvider['requireUser']>>;
    try {
      user = await this.requireUser(scopedUsername(companyId, username));
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
    const attribute = (name: string) => user.UserAttributes?.find((a) => a.Name === name)?.Value;
    return {
      userId: attribute('sub') ?? user.Username ?? username,
      username: attribute(CLAIM.username) ?? username,
      role: attribute(CLAIM.role) as Role,
      ...(attribute(CLAIM.companyId) ? { companyId: attribute(CLAIM.companyId) } : {}),
      ...(attribute(CLAIM.clientId) ? { clientId: attribute(CLAIM.clientId) } : {}),
    };
  }

  private async requireUser(poolUsername: string) {
    try {
      const user = await this.client.send(new AdminGetUserCommand({ UserPoolId: this.userPoolId, Username: poolUsername }));
      return user;
    } catch (error) {
      if (nameOf(error) === 'UserNotFoundException') throw noLogin();
      return mapCommonError(error);
    }
  }

  private issued(result: { IdToken?: string; ExpiresIn?: number } | undefined): IssuedToken | null {
    if (!result?.IdToken) return null;
    return { token: result.IdToken, expiresIn: result.ExpiresIn ?? TOKEN_LIFETIME_SECONDS };
  }
}

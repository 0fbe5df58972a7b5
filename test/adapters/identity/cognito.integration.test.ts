import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import type { DefineAuthChallengeTriggerEvent, VerifyAuthChallengeResponseTriggerEvent } from 'aws-lambda';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { CognitoIdentityProvider } from '../../../functions/adapters/identity/cognito.js';
import { hashAnswer, loginAsKey } from '../../../functions/adapters/identity/login-as.js';
import { defineAuthChallenge, verifyAuthChallenge } from '../../../functions/identity-triggers/handler.js';
import { ConflictError, NotFoundError, ThrottledError, ValidationError } from '../../../functions/domain/errors.js';
import { statusOf } from '../../../functions/http/problem.js';
import { db } from '../../../functions/store/dynamo.js';
import { useFreshTables } from '../../support/tables.js';

const POOL = 'us-east-1_pool';
const CLIENT = 'app-client';
const CO = 'co_01TESTCOMPANY0000000000000';

interface Call {
  command: string;
  input: Record<string, any>;
}

function awsError(name: string, message = name): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

type Responder = (input: Record<string, any>) => unknown | Promise<unknown>;

/** A stand-in for the Cognito client: answers per command name and records every call. */
function fakeCognito(responders: Record<string, Responder> = {}) {
  const calls: Call[] = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, any> }) => {
      const name = command.constructor.name.replace(/Command$/, '');
      calls.push({ command: name, input: command.input });
      const respond = responders[name];
      return respond ? await respond(command.input) : {};
    },
  };
  return { client: client as unknown as CognitoIdentityProviderClient, calls, names: () => calls.map((c) => c.command) };
}

let table: string;
beforeAll(async () => {
  table = (await useFreshTables()).app;
});

describe('createUser', () => {
  it('creates the scoped user silently with its attributes, a permanent password and its role group', async () => {
    const cognito = fakeCognito({ AdminCreateUser: () => ({ User: { Attributes: [{ Name: 'sub', Value: 'sub-123' }] } }) });
    const idp = new CognitoIdentityProvider(POOL, CLIENT, table, cognito.client);
    const user = await idp.createUser({ username: 'Alice', role: 'client', companyId: CO, clientId: 'cl_1', password: 'pass word 1', email: 'a@example.com' });

    expect(user).toEqual({ userId: 'sub-123', username: 'Alice', role: 'client', companyId: CO, clientId: 'cl_1' });
    expect(cognito.names()).toEqual(['AdminCreateUser', 'AdminSetUserPassword', 'AdminAddUserToGroup']);
    const [create, setPassword, group] = cognito.calls;
    expect(create.input).toMatchObject({ UserPoolId: POOL, Username: `${CO}:alice`, MessageAction: 'SUPPRESS' });
    expect(create.input.UserAttributes).toEqual(
      expect.arrayContaining([
        { Name: 'custom:role', Value: 'client' },
        { Name: 'custom:companyId', Value: CO },
        { Name: 'custom:clientId', Value: 'cl_1' },
        { Name: 'custom:username', Value: 'Alice' },
        { Name: 'email', Value: 'a@example.com' },
      ]),
    );
    expect(setPassword.input).toEqual({ UserPoolId: POOL, Username: `${CO}:alice`, Password: 'pass word 1', Permanent: true });
    expect(group.input).toMatchObject({ GroupName: 'client', Username: `${CO}:alice` });
  });

  it('scopes operators without a company and sends no email attribute when none is given', async () => {
    const cognito = fakeCognito();
    await new CognitoIdentityProvider(POOL, CLIENT, table, cognito.client).createUser({ username: 'root', role: 'operator', password: 'longenough' });
    const attributes = cognito.calls[0].input.UserAttributes.map((a: { Name: string }) => a.Name);
    expect(cognito.calls[0].input.Username).toBe('operator:root');
    expect(attributes).toEqual(['custom:role', 'custom:username']);
  });

  it('maps UsernameExistsException to a 409 naming the username field', async () => {
    const cognito = fakeCognito({
      AdminCreateUser: () => {
        throw awsError('UsernameExistsException', 'User account already exists');
      },
    });
    const error = await new CognitoIdentityProvider(POOL, CLIENT, table, cognito.client)
      .createUser({ username: 'alice', role: 'staff', companyId: CO, password: 'longenough' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ code: 'duplicate_username', details: { errors: [{ path: 'username' }] } });
    expect(statusOf(error)).toBe(409);
    expect(cognito.names()).toEqual(['AdminCreateUser']);
  });

  it('maps Cognito`s parameter checks to a 400 naming the field (email, else username)', async () => {
    const cognito = fakeCognito({
      AdminCreateUser: () => {
        throw awsError('InvalidParameterException', 'Invalid email address format.');
      },
    });
    const error = await new CognitoIdentityProvider(POOL, CLIENT, table, cognito.client)
      .createUser({ username: 'alice', role: 'staff', companyId: CO, password: 'longenough', email: 'x@' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).errors[0].path).toBe('email');
  });

  it('maps a policy rejection to a 400 on password, and rolls back a half-made user', async () => {
    const cognito = fakeCognito({
      AdminSetUserPassword: () => {
        throw awsError('InvalidPasswordException', 'Password did not conform with policy');
      },
    });
    const error = await new CognitoIdentityProvider(POOL, CLIENT, table, cognito.client)
      .createUser({ username: 'alice', role: 'staff', companyId: CO, password: 'short' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).errors[0].path).toBe('password');
    expect(cognito.names()).toEqual(['AdminCreateUser', 'AdminSetUserPassword', 'AdminDeleteUser']);
  });
});

describe('authenticate', () => {
  it('returns the ID token (the one with custom attributes) and its lifetime', async () => {
    const cognito = fakeCognito({
      AdminInitiateAuth: () => ({ AuthenticationResult: { IdToken: 'id.token', AccessToken: 'access.token', ExpiresIn: 3600 } }),
    });
    const token = await new CognitoIdentityProvider(POOL, CLIENT, table, cognito.client).authenticate(CO, 'Alice', 'secret pw');
    expect(token).toEqual({ token: 'id.token', expiresIn: 3600 });
    expect(cognito.calls[0].input).toEqual({
      UserPoolId: POOL,
      ClientId: CLIENT,
      AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: `${CO}:alice`, PASSWORD: 'secret pw' },
    });
  });

  it.each(['NotAuthorizedException', 'UserNotFoundException'])('answers null on %s', async (name) => {
    const cognito = fakeCognito({
      AdminInitiateAuth: () => {
        throw awsError(name);
      },
    });
    await expect(new CognitoIdentityProvider(POOL, CLIENT, table, cognito.client).authenticate(CO, 'alice', 'wrong')).resolves.toBeNull();
  });

  it('answers 429 when Cognito throttles and rethrows anything unexpected', async () => {
    const throttled = fakeCognito({
      AdminInitiateAuth: () => {
        throw awsError('TooManyRequestsException');
      },
    });
    await expect(new CognitoIdentityProvider(POOL, CLIENT, table, throttled.client).authenticate(CO, 'a', 'b')).rejects.toBeInstanceOf(ThrottledError);
    const broken = fakeCognito({
      AdminInitiateAuth: () => {
        throw awsError('InternalErrorException');
      },
    });
    await expect(new CognitoIdentityProvider(POOL, CLIENT, table, broken.client).authenticate(CO, 'a', 'b')).rejects.toMatchObject({
      name: 'InternalErrorException',
    });
  });
});

/** Cognito's side of CUSTOM_AUTH, driving the real trigger handlers against DynamoDB Local. */
function cognitoRunningTriggers(attributes: Record<string, string>) {
  return fakeCognito({
    AdminGetUser: () => ({ Enabled: true, UserAttributes: Object.entries(attributes).map(([Name, Value]) => ({ Name, Value })) }),
    AdminInitiateAuth: async () => {
      const defined = await defineAuthChallenge({
        request: { userAttributes: attributes, session: [] },
        response: {},
      } as unknown as DefineAuthChallengeTriggerEvent);
      return { ChallengeName: defined.response.challengeName, Session: 'session-1' };
    },
    AdminRespondToAuthChallenge: async (input) => {
      const verified = await verifyAuthChallenge({
        request: { userAttributes: attributes, challengeAnswer: input.ChallengeResponses.ANSWER, privateChallengeParameters: {} },
        response: {},
      } as unknown as VerifyAuthChallengeResponseTriggerEvent);
      const defined = await defineAuthChallenge({
        request: { userAttributes: attributes, session: [{ challengeName: 'CUSTOM_CHALLENGE', challengeResult: verified.response.answerCorrect }] },
        response: {},
      } as unknown as DefineAuthChallengeTriggerEvent);
      if (!defined.response.issueTokens) throw awsError('NotAuthorizedException', 'Incorrect username or password.');
      return { AuthenticationResult: { IdToken: 'login-as.id.token', ExpiresIn: 3600 } };
    },
  });
}

describe('issueToken (staff "login as", CUSTOM_AUTH)', () => {
  const attributes = { 'custom:role': 'client', 'custom:companyId': CO, 'custom:clientId': 'cl_9', 'custom:username': 'Bob' };

  it('stores a one-time answer, answers the challenge with it, and the trigger consumes it', async () => {
    const cognito = cognitoRunningTriggers(attributes);
    const token = await new CognitoIdentityProvider(POOL, CLIENT, table, cognito.client).issueToken(CO, 'bob');

    expect(token).toEqual({ token: 'login-as.id.token', expiresIn: 3600 });
    expect(cognito.names()).toEqual(['AdminGetUser', 'AdminInitiateAuth', 'AdminRespondToAuthChallenge']);
    expect(cognito.calls[1].input).toMatchObject({ AuthFlow: 'CUSTOM_AUTH', AuthParameters: { USERNAME: `${CO}:bob` } });
    const respond = cognito.calls[2].input;
    expect(respond).toMatchObject({ ChallengeName: 'CUSTOM_CHALLENGE', Session: 'session-1', ChallengeResponses: { USERNAME: `${CO}:bob` } });
    expect(respond.ChallengeResponses.ANSWER.length).toBeGreaterThanOrEqual(40);
    // Consumed: the item is gone.
    const left = await db().send(new GetCommand({ TableName: table, Key: loginAsKey(`${CO}:bob`), ConsistentRead: true }));
    expect(left.Item).toBeUndefined();
  });

  it('writes the answer as a SHA-256 hash with expiresAt = now + 60 (never the answer itself)', async () => {
    let stored: Record<string, unknown> | undefined;
    const cognito = fakeCognito({
      AdminGetUser: () => ({ Enabled: true }),
      AdminInitiateAuth: async () => {
        stored = (await db().send(new GetCommand({ TableName: table, Key: loginAsKey(`${CO}:carol`), ConsistentRead: true }))).Item;
        return { ChallengeName: 'CUSTOM_CHALLENGE', Session: 's' };
      },
      AdminRespondToAuthChallenge: () => ({ AuthenticationResult: { IdToken: 't', ExpiresIn: 3600 } }),
    });
    const before = Math.floor(Date.now() / 1000);
    await new CognitoIdentityProvider(POOL, CLIENT, table, cognito.client).issueToken(CO, 'carol');
    const after = Math.floor(Date.now() / 1000);
    const answer = cognito.calls[2].input.ChallengeResponses.ANSWER as string;
    expect(stored).toMatchObject({ PK: `LOGINAS#${CO}:carol`, SK: 'LOGINAS', answerHash: hashAnswer(answer) });
    expect(JSON.stringify(stored)).not.toContain(answer);
    // 60 s after the moment it was written, which lies between before and after.
    expect(stored!.expiresAt as number).toBeGreaterThanOrEqual(before + 60);
    expect(stored!.expiresAt as number).toBeLessThanOrEqual(after + 60);
  });

  it('an unknown login → 404, and no answer is written', async () => {
    const cognito = fakeCognito({
      AdminGetUser: () => {
        throw awsError('UserNotFoundException');
      },
    });
    await expect(new CognitoIdentityProvider(POOL, CLIENT, table, cognito.client).issueToken(CO, 'nobody')).rejects.toBeInstanceOf(NotFoundError);
    expect(cognito.names()).toEqual(['AdminGetUser']);
    const left = await db().send(new GetCommand({ TableName: table, Key: loginAsKey(`${CO}:nobody`), ConsistentRead: true }));
    expect(left.Item).toBeUndefined();
  });

  it('removes the stored answer when Cognito refuses the sign-in', async () => {
    const cognito = fakeCognito({
      AdminGetUser: () => ({ Enabled: true }),
      AdminInitiateAuth: () => ({ ChallengeName: 'CUSTOM_CHALLENGE', Session: 's' }),
      AdminRespondToAuthChallenge: () => {
        throw awsError('NotAuthorizedException');
      },
    });
    await expect(new CognitoIdentityProvider(POOL, CLIENT, table, cognito.client).issueToken(CO, 'dave')).rejects.toMatchObject({
      name: 'NotAuthorizedException',
    });
    const left = await db().send(new GetCommand({ TableName: table, Key: loginAsKey(`${CO}:dave`), ConsistentRead: true }));
    expect(left.Item).toBeUndefined();
  });
});

describe('auth challenge triggers', () => {
  const attributes = { 'custom:role': 'staff', 'custom:companyId': CO, 'custom:username': 'Erin' };
  const key = loginAsKey(`${CO}:erin`);
  const verify = (answer: string) =>
    verifyAuthChallenge({
      request: { userAttributes: attributes, challengeAnswer: answer },
      response: {},
    } as unknown as VerifyAuthChallengeResponseTriggerEvent).then((e) => e.response.answerCorrect);
  const store = (answer: string, expiresAt: number) =>
    db().send(new PutCommand({ TableName: table, Item: { ...key, answerHash: hashAnswer(answer), expiresAt } }));

  beforeEach(async () => {
    await store('the-answer', Math.floor(Date.now() / 1000) + 60);
  });

  it('accepts the right answer once', async () => {
    expect(await verify('the-answer')).toBe(true);
    expect(await verify('the-answer')).toBe(false);
  });

  it('rejects a wrong answer, and an expired one', async () => {
    expect(await verify('not-the-answer')).toBe(false);
    await store('old', Math.floor(Date.now() / 1000) - 1);
    expect(await verify('old')).toBe(false);
  });

  it('define: one custom challenge, tokens only after a right answer, failure after a wrong one', async () => {
    const define = (session: unknown[]) =>
      defineAuthChallenge({ request: { userAttributes: attributes, session }, response: {} } as unknown as DefineAuthChallengeTriggerEvent).then(
        (e) => e.response,
      );
    expect(await define([])).toMatchObject({ challengeName: 'CUSTOM_CHALLENGE', issueTokens: false, failAuthentication: false });
    expect(await define([{ challengeName: 'CUSTOM_CHALLENGE', challengeResult: true }])).toMatchObject({ issueTokens: true, failAuthentication: false });
    expect(await define([{ challengeName: 'CUSTOM_CHALLENGE', challengeResult: false }])).toMatchObject({ issueTokens: false, failAuthentication: true });
    expect(await define([{ challengeName: 'SRP_A', challengeResult: true }])).toMatchObject({ issueTokens: false, failAuthentication: true });
  });
});

describe('setPassword, setEnabled, renameUser, deleteUser', () => {
  it('sets a permanent password; an unknown user → 404', async () => {
    const cognito = fakeCognito();
    await new CognitoIdentityProvider(POOL, CLIENT, table, cognito.client).setPassword(CO, 'Alice', 'new password');
    expect(cognito.calls[0]).toEqual({
      command: 'AdminSetUserPassword',
      input: { UserPoolId: POOL, Username: `${CO}:alice`, Password: 'new password', Permanent: true },
    });
    const missing = fakeCognito({
      AdminSetUserPassword: () => {
        throw awsError('UserNotFoundException');
      },
    });
    await expect(new CognitoIdentityProvider(POOL, CLIENT, table, missing.client).setPassword(CO, 'x', 'new password')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('enables and disables', async () => {
    const cognito = fakeCognito();
    const idp = new CognitoIdentityProvider(POOL, CLIENT, table, cognito.client);
    await idp.setEnabled(CO, 'alice', false);
    await idp.setEnabled(CO, 'alice', true);
    expect(cognito.names()).toEqual(['AdminDisableUser', 'AdminEnableUser']);
  });

  it('renames by recreating the user with the same attributes (new username) and deleting the old one', async () => {
    const cognito = fakeCognito({
      AdminGetUser: () => ({
        Enabled: true,
        UserAttributes: [
          { Name: 'sub', Value: 'old-sub' },
          { Name: 'custom:role', Value: 'client' },
          { Name: 'custom:companyId', Value: CO },
          { Name: 'custom:clientId', Value: 'cl_1' },
          { Name: 'custom:username', Value: 'old' },
          { Name: 'email', Value: 'o@example.com' },
        ],
      }),
    });
    await new CognitoIdentityProvider(POOL, CLIENT, table, cognito.client).renameUser(CO, 'old', 'New');
    expect(cognito.names()).toEqual(['AdminGetUser', 'AdminCreateUser', 'AdminSetUserPassword', 'AdminAddUserToGroup', 'AdminDeleteUser']);
    const create = cognito.calls[1].input;
    expect(create.Username).toBe(`${CO}:new`);
    expect(create.MessageAction).toBe('SUPPRESS');
    expect(create.UserAttributes).toEqual([
      { Name: 'custom:role', Value: 'client' },
      { Name: 'custom:companyId', Value: CO },
      { Name: 'custom:clientId', Value: 'cl_1' },
      { Name: 'custom:username', Value: 'New' },
      { Name: 'email', Value: 'o@example.com' },
    ]);
    expect(cognito.calls[2].input.Permanent).toBe(true);
    expect(cognito.calls[4].input.Username).toBe(`${CO}:old`);
  });

  it('a rename onto a taken username → 409 and the old user stays', async () => {
    const cognito = fakeCognito({
      AdminGetUser: () => ({ Enabled: true, UserAttributes: [{ Name: 'custom:role', Value: 'staff' }] }),
      AdminCreateUser: () => {
        throw awsError('UsernameExistsException');
      },
    });
    await expect(new CognitoIdentityProvider(POOL, CLIENT, table, cognito.client).renameUser(CO, 'a', 'b')).rejects.toBeInstanceOf(ConflictError);
    expect(cognito.names()).not.toContain('AdminDeleteUser');
  });

  it('delete ignores a user that is already gone', async () => {
    const cognito = fakeCognito({
      AdminDeleteUser: () => {
        throw awsError('UserNotFoundException');
      },
    });
    await expect(new CognitoIdentityProvider(POOL, CLIENT, table, cognito.client).deleteUser(CO, 'gone')).resolves.toBeUndefined();
  });
});

describe('findUser', () => {
  it('answers the login of a scoped username from its attributes, undefined when there is none', async () => {
    const cognito = fakeCognito({
      AdminGetUser: (input) => {
        if (input.Username !== `${CO}:alice`) throw awsError('UserNotFoundException');
        return {
          Username: `${CO}:alice`,
          UserAttributes: [
            { Name: 'sub', Value: 'sub-123' },
            { Name: 'custom:role', Value: 'client' },
            { Name: 'custom:username', Value: 'Alice' },
            { Name: 'custom:companyId', Value: CO },
            { Name: 'custom:clientId', Value: 'cl_1' },
          ],
        };
      },
    });
    const idp = new CognitoIdentityProvider(POOL, CLIENT, table, cognito.client);
    expect(await idp.findUser(CO, 'ALICE')).toEqual({ userId: 'sub-123', username: 'Alice', role: 'client', companyId: CO, clientId: 'cl_1' });
    expect(await idp.findUser(CO, 'bob')).toBeUndefined();
  });
});

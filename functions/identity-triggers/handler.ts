import type { CreateAuthChallengeTriggerEvent, DefineAuthChallengeTriggerEvent, VerifyAuthChallengeResponseTriggerEvent } from 'aws-lambda';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from '../store/dynamo.js';
import { hashAnswer, loginAsKey, poolUsernameFromAttributes } from '../adapters/identity/login-as.js';
import { tracedHandler } from '../observability/tracer.js';

/**
 * Cognito CUSTOM_AUTH triggers behind staff "login as" (see `CognitoIdentityProvider.issueToken`): one custom
 * challenge whose answer is a random secret the API stored hashed for 60 seconds. One wrong answer ends the
 * sign-in; a right one is consumed, so it works once.
 */

async function defineChallenge(event: DefineAuthChallengeTriggerEvent): Promise<DefineAuthChallengeTriggerEvent> {
  const session = event.request.session ?? [];
  const last = session.at(-1);
  if (session.length === 0) {
    event.response.challengeName = 'CUSTOM_CHALLENGE';
    event.response.issueTokens = false;
    event.response.failAuthentication = false;
  } else if (session.length === 1 && last?.challengeName === 'CUSTOM_CHALLENGE' && last.challengeResult === true) {
    event.response.issueTokens = true;
    event.response.failAuthentication = false;
  } else {
    event.response.issueTokens = false;
    event.response.failAuthentication = true;
  }
  return event;
}

async function createChallenge(event: CreateAuthChallengeTriggerEvent): Promise<CreateAuthChallengeTriggerEvent> {
  // Nothing is sent anywhere: the API already holds the answer. The challenge only names itself.
  event.response.publicChallengeParameters = { kind: 'login-as' };
  event.response.privateChallengeParameters = {};
  event.response.challengeMetadata = 'LOGIN_AS';
  return event;
}

async function verifyAnswer(event: VerifyAuthChallengeResponseTriggerEvent): Promise<VerifyAuthChallengeResponseTriggerEvent> {
  event.response.answerCorrect = false;
  const poolUsername = poolUsernameFromAttributes(event.request.userAttributes ?? {});
  const answer = event.request.challengeAnswer;
  if (!poolUsername || typeof answer !== 'string' || answer === '') return event;
  try {
    // Reads, checks and consumes the answer in one conditional delete: right hash and not expired.
    await db().send(
      new DeleteCommand({
        TableName: tableName(),
        Key: loginAsKey(poolUsername),
        ConditionExpression: 'answerHash = :hash AND expiresAt > :now',
        ExpressionAttributeValues: { ':hash': hashAnswer(answer), ':now': Math.floor(Date.now() / 1000) },
      }),
    );
    event.response.answerCorrect = true;
  } catch (error) {
    if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
  }
  return event;
}

// The entries lib/identity.ts names, one per trigger function, traced.
export const defineAuthChallenge = tracedHandler(defineChallenge);
export const createAuthChallenge = tracedHandler(createChallenge);
export const verifyAuthChallenge = tracedHandler(verifyAnswer);

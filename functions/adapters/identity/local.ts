import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { SignJWT, jwtVerify, importJWK, exportJWK, generateKeyPair, type JWK, type JWTPayload } from 'jose';
import { db } from '../../store/dynamo.js';
import { newId } from '../../domain/ids.js';
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import { CLAIM } from './claims.js';
import { scopedUsername, TOKEN_LIFETIME_SECONDS, type IdentityProvider, type IssuedToken, type LoginUser } from './port.js';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

export const LOCAL_ISSUER = 'https://identity.billow.local';
export const LOCAL_AUDIENCE = 'billow-local';
const ALG = 'RS256';

/** Creates the signing key of the local identity stand-in (kept by the local stack under `.billow/`). */
export async function generateLocalSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(ALG, { extractable: true });
  return { ...(await exportJWK(privateKey)), alg: ALG, kid: newId('usr').slice(4, 14) };
}

function signingJwk(): JWK {
  const raw = process.env.BILLOW_LOCAL_IDENTITY_KEY;
  if (!raw) throw new Error('BILLOW_LOCAL_IDENTITY_KEY is not set');
  return JSON.parse(raw) as JWK;
}

function publicPart(jwk: JWK): JWK {
  const { d, p, q, dp, dq, qi, ...pub } = jwk;
  return pub;
}

/** The public key, imported once per signing key (a process may run several local stacks, each with its own key). */
let publicKey: { jwk: string; key: ReturnType<typeof importJWK> } | undefined;

/**
 * Tokens already verified, with their claims, until they expire: a client sends the same token with every request,
 * and its signature, issuer and audience cannot change. Kept per signing key; the oldest goes first when full.
 */
const verifiedTokens = new Map<string, { jwk: string; payload: JWTPayload; exp: number }>();
const VERIFIED_TOKENS_KEPT = 1000;

/**
 * Verifies a token of the local stand-in as API Gateway's JWT authorizer verifies Cognito's: signature with
 * the issuer's public key (RS256 only, so `alg: none` fails), issuer, audience and expiry. A token verified before
 * is answered from memory until its `exp`, and from that second on refused as jose refuses it (`exp <= now`).
 * Whether its login is still active is not a property of the token: the pipeline checks that on every request.
 */
export async function verifyLocalToken(token: string): Promise<JWTPayload> {
  const jwk = process.env.BILLOW_LOCAL_IDENTITY_KEY;
  if (!jwk) throw new Error('BILLOW_LOCAL_IDENTITY_KEY is not set');
  const now = Math.floor(Date.now() / 1000);
  const known = verifiedTokens.get(token);
  if (known && known.jwk === jwk && now < known.exp) return { ...known.payload };
  if (known) verifiedTokens.delete(token);
  if (publicKey?.jwk !== jwk) publicKey = { jwk, key: importJWK(publicPart(JSON.parse(jwk) as JWK), ALG) };
  // API Gateway refuses a token without `exp`; jose would let one through as never expiring.
  const { payload } = await jwtVerify(token, await publicKey.key, {
    issuer: LOCAL_ISSUER,
    audience: LOCAL_AUDIENCE,
    algorithms: [ALG],
    requiredClaims: ['exp'],
  });
  // A token not valid before a later time (`nbf`) is not kept: it is checked again when it comes again.
  if (typeof payload.exp === 'number' && payload.nbf === undefined) {
    if (verifiedTokens.size >= VERIFIED_TOKENS_KEPT) verifiedTokens.delete(verifiedTokens.keys().next().value as string);
    verifiedTokens.set(token, { jwk, payload: { ...payload }, exp: payload.exp });
  }
  return payload;
}

interface StoredUser extends LoginUser {
  PK: string;
  SK: string;
  passwordHash: string;
  enabled: boolean;
  email?: string;
}

async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, 32);
  return `scrypt$${salt.toString('base64')}$${hash.toString('base64')}`;
}

async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [, salt, hash] = stored.split('$');
  const expected = Buffer.from(hash, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length);
  return timingSafeEqual(actual, expected);
}

/** The local stand-in for the Cognito user pool: users in their own DynamoDB Local table, RS256 tokens. */
export class LocalIdentityProvider implements IdentityProvider {
  constructor(private readonly tableName: string) {}

  private key(companyId: string | undefined, username: string) {
    return { PK: `USER#${scopedUsername(companyId, username)}`, SK: 'USER' };
  }

  private async get(companyId: string | undefined, username: string): Promise<StoredUser | undefined> {
    const out = await db().send(new GetCommand({ TableName: this.tableName, Key: this.key(companyId, username), ConsistentRead: true }));
    return out.Item as StoredUser | undefined;
  }

  async createUser(user: Omit<LoginUser, 'userId'> & { password: string; email?: string }): Promise<LoginUser> {
    const created: LoginUser = { userId: newId('usr'), username: user.username, role: user.role, companyId: user.companyId, clientId: user.clientId };
    try {
      await db().send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...this.key(user.companyId, user.username), ...created, email: user.email, enabled: true, passwordHash: await hashPassword(user.password) },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
      // The user this call wrote (its new id): the Put's answer was lost and the SDK's retry of it met the item.
      if ((await this.get(user.companyId, user.username))?.userId !== created.userId)
        throw new ConflictError('That username is taken.', { field: 'username', code: 'duplicate_username' });
    }
    return created;
  }

  async findUser(companyId: string | undefined, username: string): Promise<LoginUser | undefined> {
    const user = await this.get(companyId, username);
    if (!user) return undefined;
    return { userId: user.userId, username: user.username, role: user.role, companyId: user.companyId, clientId: user.clientId };
  }

  async authenticate(companyId: string | undefined, username: string, password: string): Promise<IssuedToken | null> {
    const user = await this.get(companyId, username);
    if (!user?.enabled || !(await passwordMatches(password, user.passwordHash))) return null;
    return this.sign(user);
  }

  async issueToken(companyId: string | undefined, username: string): Promise<IssuedToken> {
    const user = await this.get(companyId, username);
    if (!user) throw new NotFoundError('No login exists for that user.');
    return this.sign(user);
  }

  private async sign(user: StoredUser): Promise<IssuedToken> {
    const jwk = signingJwk();
    const key = await importJWK(jwk, ALG);
    const claims: Record<string, string> = { [CLAIM.role]: user.role, [CLAIM.username]: user.username, token_use: 'id' };
    if (user.companyId) claims[CLAIM.companyId] = user.companyId;
    if (user.clientId) claims[CLAIM.clientId] = user.clientId;
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: ALG, kid: jwk.kid })
      .setSubject(user.userId)
      .setIssuer(LOCAL_ISSUER)
      .setAudience(LOCAL_AUDIENCE)
      .setIssuedAt()
      .setJti(randomBytes(8).toString('hex'))
      .setExpirationTime(`${TOKEN_LIFETIME_SECONDS}s`)
      .sign(key);
    return { token, expiresIn: TOKEN_LIFETIME_SECONDS };
  }

  async setPassword(companyId: string | undefined, username: string, password: string): Promise<void> {
    await db().send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.key(companyId, username),
        UpdateExpression: 'SET passwordHash = :h',
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeValues: { ':h': await hashPassword(password) },
      }),
    );
  }

  async setEnabled(companyId: string | undefined, username: string, enabled: boolean): Promise<void> {
    await db().send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.key(companyId, username),
        UpdateExpression: 'SET enabled = :e',
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeValues: { ':e': enabled },
      }),
    );
  }

  async renameUser(companyId: string | undefined, from: string, to: string): Promise<void> {
    const user = await this.get(companyId, from);
    if (!user) throw new NotFoundError('No login exists for that user.');
    if (scopedUsername(companyId, from) === scopedUsername(companyId, to)) {
      // Only the case changed (as in cognito.ts): the key stays; the username carried in tokens follows.
      await db().send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(companyId, from),
          UpdateExpression: 'SET username = :u',
          ExpressionAttributeValues: { ':u': to },
        }),
      );
      return;
    }
    try {
      await db().send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: { TableName: this.tableName, Item: { ...user, ...this.key(companyId, to), username: to }, ConditionExpression: 'attribute_not_exists(PK)' },
            },
            { Delete: { TableName: this.tableName, Key: this.key(companyId, from) } },
          ],
        }),
      );
    } catch (error) {
      const reasons = (error as { CancellationReasons?: Array<{ Code?: string }> }).CancellationReasons ?? [];
      if ((error as Error).name === 'TransactionCanceledException' && reasons[0]?.Code === 'ConditionalCheckFailed') {
        throw new ConflictError('That username is taken.', { field: 'username', code: 'duplicate_username' });
      }
      throw error;
    }
  }

  async deleteUser(companyId: string | undefined, username: string): Promise<void> {
    await db().send(new DeleteCommand({ TableName: this.tableName, Key: this.key(companyId, username) }));
  }
}

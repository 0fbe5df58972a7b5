import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import { getServices } from '../services.js';
import { ValidationError } from '../domain/errors.js';

/**
 * Opaque list cursors: the DynamoDB key to continue from, signed together with the list's scope (tenant, list
 * and filters). A cursor that was altered, or comes from another list or tenant, fails the signature → 400.
 */
export async function encodeCursor(scope: string, key: Record<string, unknown> | undefined): Promise<string | null> {
  if (!key) return null;
  const payload = Buffer.from(JSON.stringify(key)).toString('base64url');
  return `${payload}.${await sign(scope, payload)}`;
}

export async function decodeCursor(scope: string, cursor: string | undefined): Promise<Record<string, unknown> | undefined> {
  if (cursor === undefined) return undefined;
  const invalid = ValidationError.field('cursor', 'The cursor is not valid for this list.');
  const [payload, signature, extra] = cursor.split('.');
  if (!payload || !signature || extra !== undefined) throw invalid;
  const expected = Buffer.from(await sign(scope, payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw invalid;
  try {
    const key = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    if (typeof key !== 'object' || key === null || Array.isArray(key)) throw invalid;
    return key as Record<string, unknown>;
  } catch {
    throw invalid;
  }
}

async function sign(scope: string, payload: string): Promise<string> {
  const secret = await getServices().secrets.signingSecret();
  return createHmac('sha256', secret).update(`${scope}\n${payload}`).digest('base64url');
}

/** Query parameters every list takes. */
export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().min(1).max(2048).optional(),
});

export interface ListBody<T> {
  data: T[];
  nextCursor: string | null;
}

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { currentTime } from '../domain/clock.js';
import { ConflictError, NotFoundError } from '../domain/errors.js';

export const nowIso = () => currentTime().toISOString();

export function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error as Error)?.name === 'ConditionalCheckFailedException';
}

/** Parses an `If-Match` header: a bare or quoted version number. */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const value = header
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');
  if (!/^\d+$/.test(value)) throw new ConflictError("If-Match must be the object's version.", { code: 'stale_version' });
  return Number(value);
}

export function assertVersion(current: { version: number }, expected: number | undefined): void {
  if (expected !== undefined && current.version !== expected) {
    throw new ConflictError(`The object changed: its version is ${current.version}, not ${expected}.`, { code: 'stale_version' });
  }
}

/** After a failed conditional write on an object read moments ago: it vanished, or someone else changed it. */
export function staleOrGone(what: string, exists: boolean): Error {
  return exists
    ? new ConflictError(`The ${what} was changed by another request; read it again.`, { code: 'stale_version' })
    : new NotFoundError(`No such ${what}.`);
}

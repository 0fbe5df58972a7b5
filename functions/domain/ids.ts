import { createHash, randomBytes } from 'node:crypto';

export type IdPrefix =
  | 'co'
  | 'cl'
  | 'grp'
  | 'ct'
  | 'note'
  | 'pa'
  | 'inv'
  | 'txn'
  | 'svc'
  | 'pkg'
  | 'mail'
  | 'imp'
  | 'run'
  | 'rinv'
  | 'usr'
  | 'act'
  | 'prc'
  | 'li'
  | 'tax';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A prefixed, time-ordered id (`cl_01J…`): 10 characters of millisecond time then 16 random ones,
 * Crockford base32, so ids sort by creation and never collide in practice.
 */
export function newId(prefix: IdPrefix, now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(16);
  let rand = '';
  for (const b of bytes) rand += ALPHABET[b % 32];
  return `${prefix}_${time}${rand}`;
}

/**
 * An id derived from what it stands for (the automation's charge attempt for a client, currency, date and attempt
 * number): the same parts always give the same id, so writing it twice is refused by the store and the gateway key
 * derived from it (chargeIdempotencyKey) charges once. Same shape as `newId`'s, without the time order.
 */
export function derivedId(prefix: IdPrefix, ...parts: string[]): string {
  const digest = createHash('sha256').update(JSON.stringify(parts)).digest();
  let body = '';
  for (let i = 0; i < 26; i++) body += ALPHABET[digest[i] % 32];
  return `${prefix}_${body}`;
}

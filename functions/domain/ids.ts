import { randomBytes } from 'node:crypto';

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

import { randomInt } from 'node:crypto';

/** A readable random password for "generate password" (shown once, never mailed). */
export function generatePassword(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!@#%*-_';
  let out = '';
  for (let i = 0; i < 16; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** The password of a login nobody is meant to sign in with yet: its owner chooses one through a set-password link. */
export function unusablePassword(): string {
  return generatePassword() + generatePassword();
}

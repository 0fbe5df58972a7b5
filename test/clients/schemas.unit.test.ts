import { describe, expect, it } from 'vitest';
import { phone } from '../../functions/clients/schemas.js';

/** The fields a parse names, each once. */
const paths = (result: { success: boolean; error?: { issues: Array<{ path: PropertyKey[] }> } }) => [
  ...new Set((result.error?.issues ?? []).map((issue) => issue.path.join('.'))),
];

describe('phone numbers', () => {
  it.each(['+1 555 0101 ext 7', '+1 555 0101 ext. 7', '+1 555 0101 extension 12', '+1 555 0101 x7', '+1 555 0101 #7', '(020) 7946-0000 EXT 99'])(
    'accepts %s, an extension included (seed 002)',
    (number) => {
      const parsed = phone.safeParse({ type: 'phone', location: 'work', number });
      expect(paths(parsed)).toEqual([]);
      expect(parsed.data?.number).toBe(number);
    },
  );

  it.each(['call me', '555 0101 ext', '<script>', ''])('refuses %j', (number) => {
    expect(paths(phone.safeParse({ type: 'phone', location: 'work', number }))).toEqual(['number']);
  });
});

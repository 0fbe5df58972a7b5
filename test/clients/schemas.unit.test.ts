import { describe, expect, it } from 'vitest';
import { contactBody, createClientBody, phone, updateClientBody } from '../../functions/clients/schemas.js';

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

describe('string lengths: 1,000 characters unless the contract says otherwise', () => {
  const fields = ['firstName', 'lastName', 'company', 'title', 'address1', 'address2', 'city', 'state', 'zip', 'taxId'] as const;

  it.each(fields)('%s of 1,000 characters is accepted by create and update, 1,001 is refused naming it', (field) => {
    for (const schema of [createClientBody, updateClientBody]) {
      expect(paths(schema.safeParse({ company: 'Co', [field]: 'a'.repeat(1000) }))).toEqual([]);
      expect(paths(schema.safeParse({ company: 'Co', [field]: 'a'.repeat(1001) }))).toEqual([field]);
    }
  });

  it.each(fields.filter((f) => f !== 'taxId'))('a contact %s of 1,000 characters is accepted, 1,001 refused naming it', (field) => {
    const base = { type: 'billing', firstName: 'Ann', lastName: 'Lee', email: 'ann@example.com' };
    expect(paths(contactBody.safeParse({ ...base, [field]: 'a'.repeat(1000) }))).toEqual([]);
    expect(paths(contactBody.safeParse({ ...base, [field]: 'a'.repeat(1001) }))).toEqual([field]);
  });

  it('a phone number and a custom field name of 1,000 characters are accepted', () => {
    const parsed = createClientBody.safeParse({
      company: 'Co',
      phones: [{ type: 'phone', location: 'home', number: '5'.repeat(1000) }],
      customFields: { ['k'.repeat(1000)]: 'v'.repeat(1000) },
    });
    expect(paths(parsed)).toEqual([]);
  });
});

describe('number on update', () => {
  it('a staff PATCH may carry a positive integer number; anything else is refused naming it', () => {
    expect(updateClientBody.safeParse({ number: 42 }).data).toEqual({ number: 42 });
    for (const number of [0, -1, 1.5, '42']) expect(paths(updateClientBody.safeParse({ number }))).toEqual(['number']);
  });
});

import { describe, expect, it } from 'vitest';
import { assertValidContact, contactFieldsFrom, type ContactFields } from '../../functions/domain/contact.js';
import { ValidationError } from '../../functions/domain/errors.js';

const complete: ContactFields = contactFieldsFrom({ type: 'billing', firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com' });
const noRules = { companyTypes: [], requiredFields: [] };

function pathsOf(run: () => void): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).errors.map((e) => e.path);
  }
  return [];
}

describe('contactFieldsFrom', () => {
  it('fills a new contact with null text fields and no phones', () => {
    expect(contactFieldsFrom({ type: 'technical', firstName: 'Ada' })).toEqual({
      type: 'technical',
      firstName: 'Ada',
      lastName: null,
      email: null,
      company: null,
      title: null,
      address1: null,
      address2: null,
      city: null,
      country: null,
      state: null,
      zip: null,
      phones: [],
    });
  });

  it('keeps what a change does not give and clears a field given as null', () => {
    const base = { ...complete, city: 'London', phones: [{ type: 'phone' as const, location: 'work' as const, number: '+44 20 7946 0000' }] };
    expect(contactFieldsFrom({ city: null, title: 'CFO' }, base)).toEqual({ ...base, city: null, title: 'CFO' });
  });
});

describe('assertValidContact', () => {
  it('accepts a built-in type with a first and last name and an email', () => {
    expect(() => assertValidContact(complete, noRules)).not.toThrow();
  });

  it('names the type when it is neither built in nor one of the company types', () => {
    expect(pathsOf(() => assertValidContact({ ...complete, type: 'legal' }, noRules))).toEqual(['type']);
    expect(() => assertValidContact({ ...complete, type: 'legal' }, { ...noRules, companyTypes: ['legal'] })).not.toThrow();
  });

  it('lets a contact keep a type the company has since removed', () => {
    expect(() => assertValidContact({ ...complete, type: 'legal' }, { ...noRules, currentType: 'legal' })).not.toThrow();
  });

  it('requires a first name, a last name and an email, blank counting as missing', () => {
    expect(pathsOf(() => assertValidContact({ ...complete, firstName: ' ', lastName: null, email: '' }, noRules))).toEqual(['firstName', 'lastName', 'email']);
  });

  it("names each field the client's group requires, once, phones meaning at least one phone", () => {
    const paths = pathsOf(() => assertValidContact({ ...complete, email: null }, { ...noRules, requiredFields: ['email', 'country', 'phones'] }));
    expect(paths).toEqual(['email', 'country', 'phones']);
  });
});

import { describe, expect, it } from 'vitest';
import { isFirstMatch, searchFold, searchTerms, type SearchField } from '../../functions/domain/client.js';
import { firstMatchFrom, fitKeyValue } from '../../functions/store/clients.js';

/**
 * A search entry stores `firstMatchFrom` instead of all of its client's (term, field) pairs: for every `q` its term
 * starts, "q is at least that long" must say exactly what `isFirstMatch` says over the pairs.
 */
describe('firstMatchFrom', () => {
  const clients: Array<Partial<Record<SearchField, string | number | null>>> = [
    { firstName: 'Anna', lastName: 'Annan', company: 'Annex Corp', email: 'anna.annan@annmail.example', number: 12 },
    { firstName: 'Smith', lastName: 'Smith', company: null, email: null, number: 7 },
    { firstName: 'Émile', lastName: 'Emil', company: 'Émeraude SA', email: 'emil@mail.example', number: 100 },
    { firstName: 'Bob', lastName: 'Bobcat', company: 'Bobcat Inc', email: 'bob@bobcat.example', number: 1 },
    { firstName: null, lastName: null, company: '12 Angry Men', email: '12@example', number: 12 },
  ];
  for (const c of clients) {
    it(`agrees with isFirstMatch for every prefix of every term of ${JSON.stringify(c)}`, () => {
      const pairs = searchTerms({ firstName: null, lastName: null, company: null, email: null, number: 0, ...c } as never).map(
        ([term, field]): [string, SearchField] => [fitKeyValue(term), field],
      );
      expect(pairs.length).toBeGreaterThan(1);
      let checked = 0;
      for (const [term, field] of pairs) {
        const from = firstMatchFrom(pairs, term, field);
        for (let n = 0; n <= term.length; n++) {
          const q = searchFold(term.slice(0, n));
          expect(q.length >= from, `${term}/${field} q=${q}`).toBe(isFirstMatch(pairs, q, term, field));
          checked++;
        }
      }
      // Exactly one entry of the client is its first match for the empty q (a browse lists it once).
      expect(pairs.filter(([term, field]) => firstMatchFrom(pairs, term, field) === 0)).toHaveLength(1);
      expect(checked).toBeGreaterThan(pairs.length);
    });
  }
});

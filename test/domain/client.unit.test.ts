import { describe, expect, it } from 'vitest';
import { summaryRows, type BalanceTotals } from '../../functions/domain/client.js';

const row = (currency: string, due = 0): BalanceTotals => ({ currency, invoiced: due, paid: 0, due, credit: 0 });

describe('summaryRows', () => {
  it("lists the client's own currency with zero totals when it has none", () => {
    expect(summaryRows({ currency: 'USD' }, [])).toEqual([row('USD')]);
  });

  it("puts the client's own currency first and the others by code", () => {
    const rows = summaryRows({ currency: 'GBP' }, [row('USD', 5), row('EUR', 3), row('GBP', 7)]);
    expect(rows.map((r) => r.currency)).toEqual(['GBP', 'EUR', 'USD']);
    expect(rows[0]).toEqual(row('GBP', 7));
  });

  it('adds the zero row for the own currency ahead of the others', () => {
    expect(summaryRows({ currency: 'CAD' }, [row('USD', 5)]).map((r) => r.currency)).toEqual(['CAD', 'USD']);
  });
});

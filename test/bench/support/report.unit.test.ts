import { describe, expect, it } from 'vitest';
import { formatTable, passes, type BudgetResult } from '../../../bench/support/report.js';

const result = (over: Partial<BudgetResult>): BudgetResult => ({
  budget: 1,
  name: 'profile: read capacity',
  measured: 1,
  limit: 1.1,
  kind: 'max',
  detail: 'RCU 2.0 / 2.0',
  ...over,
});

describe('passes', () => {
  it('a max budget is met up to and including its limit', () => {
    expect(passes(result({ measured: 1.1, limit: 1.1 }))).toBe(true);
    expect(passes(result({ measured: 1.11, limit: 1.1 }))).toBe(false);
  });

  it('a min budget is met from its limit up', () => {
    expect(passes(result({ kind: 'min', measured: 0.8, limit: 0.8 }))).toBe(true);
    expect(passes(result({ kind: 'min', measured: 0.79, limit: 0.8 }))).toBe(false);
  });

  it('an infinite growth fails a max budget', () => {
    expect(passes(result({ measured: Number.POSITIVE_INFINITY }))).toBe(false);
  });
});

describe('formatTable', () => {
  const table = formatTable([
    result({ name: 'profile: calls', measured: 1, detail: 'calls 2 / 2' }),
    result({ budget: 5, name: 'profile read ÷ raw', measured: 0.654, limit: 0.8, kind: 'min', detail: 'medians' }),
  ]);
  const lines = table.split('\n');

  it('has a header, a rule and one row per result', () => {
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^#\s+what\s+measured\s+budget\s+how$/);
    expect(lines[1]).toMatch(/^-\s+-+/);
  });

  it('prints each figure with two decimals, its budget with its direction, and the verdict', () => {
    expect(lines[2]).toMatch(/^1\s+profile: calls\s+1\.00\s+≤ 1\.1\s+PASS\s+calls 2 \/ 2$/);
    expect(lines[3]).toMatch(/^5\s+profile read ÷ raw\s+0\.65\s+≥ 0\.8\s+FAIL\s+medians$/);
  });

  it('aligns the columns: every row starts its verdict at the same place', () => {
    const at = lines.slice(2).map((l) => l.search(/PASS|FAIL/));
    expect(new Set(at).size).toBe(1);
  });

  it('of no results is the header alone', () => {
    expect(formatTable([]).split('\n')).toHaveLength(2);
  });
});

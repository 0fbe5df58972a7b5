/**
 * What every benchmark module reports, so `npm run bench` prints one table of every budget of issue 13 with PASS or
 * FAIL, and the cost model (bench/cost.ts) can price what was measured. A figure is always a ratio (or a count)
 * measured in one run: the machine is shared and noisy, so no absolute time is ever a budget.
 */
export interface BudgetResult {
  /** The budget number (1–8) and a short name of what was measured, e.g. `client list ?status=inactive`. */
  budget: number;
  name: string;
  /** The measured figure (a ratio, a count per object, …) and what it is compared with. */
  measured: number;
  limit: number;
  /** `max`: measured must be ≤ limit; `min`: measured must be ≥ limit. */
  kind: 'max' | 'min';
  /** How the figure was formed, e.g. `RCU 5000 clients / RCU 50 clients (2.1 / 2.1)`. */
  detail: string;
}

/** DynamoDB work of one API operation as measured, for the cost model. */
export interface OperationCost {
  operation: string;
  calls: number;
  readCapacity: number;
  writeCapacity: number;
  /** Median wall time of the operation in the bench (ms), for Lambda duration. */
  ms: number;
}

export interface BenchOutcome {
  results: BudgetResult[];
  operations?: OperationCost[];
  /** Extra lines to print under the table (bundle top modules, say). */
  notes?: string[];
}

export const passes = (r: BudgetResult): boolean => (r.kind === 'max' ? r.measured <= r.limit : r.measured >= r.limit);

export function formatTable(results: readonly BudgetResult[]): string {
  const rows = results.map((r) => [
    String(r.budget),
    r.name,
    r.measured.toFixed(2),
    `${r.kind === 'max' ? '≤' : '≥'} ${r.limit}`,
    passes(r) ? 'PASS' : 'FAIL',
    r.detail,
  ]);
  const head = ['#', 'what', 'measured', 'budget', '', 'how'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

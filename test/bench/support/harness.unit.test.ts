import { describe, expect, it } from 'vitest';
import { formatRun, fromJson, MODULES, operationsOf, parseArgs, succeeded, toJson, type ModuleRun } from '../../../bench/support/harness.js';
import type { BudgetResult } from '../../../bench/support/report.js';

const budget = (measured: number): BudgetResult => ({ budget: 2, name: 'note add: reads', measured, limit: 2, kind: 'max', detail: 'reads' });
const ran = (name: string, measured: number, operations = [{ operation: name, calls: 2, readCapacity: 1, writeCapacity: 0, ms: 3 }]): ModuleRun => ({
  name,
  state: 'ran',
  seconds: 1.5,
  outcome: { results: [budget(measured)], operations, notes: [`note of ${name}`] },
});

describe('parseArgs', () => {
  it('runs every module, in order, without --only', () => {
    expect(parseArgs([]).only).toEqual([...MODULES]);
  });

  it('takes --only as a list, repeated or with =, in the harness order', () => {
    expect(parseArgs(['--only', 'writes,reads']).only).toEqual(['reads', 'writes']);
    expect(parseArgs(['--only', 'cost', '--only=overhead']).only).toEqual(['overhead', 'cost']);
  });

  it('refuses an unknown module, naming it', () => {
    expect(() => parseArgs(['--only', 'reads,speed'])).toThrow(/speed/);
  });

  it('refuses an unknown argument and a bare --only', () => {
    expect(() => parseArgs(['--fast'])).toThrow(/--fast/);
    expect(() => parseArgs(['--only'])).toThrow(/--only/);
  });
});

describe('a run', () => {
  const missing: ModuleRun = { name: 'imports', state: 'missing', seconds: 0, error: 'bench/imports.ts does not exist' };
  const threw: ModuleRun = { name: 'bundles', state: 'threw', seconds: 2, error: 'esbuild failed' };

  it('succeeds only when every module ran and met every budget', () => {
    expect(succeeded([ran('reads', 1), ran('writes', 2)])).toBe(true);
    expect(succeeded([ran('reads', 1), ran('writes', 3)])).toBe(false);
    expect(succeeded([ran('reads', 1), missing])).toBe(false);
    expect(succeeded([ran('reads', 1), threw])).toBe(false);
  });

  it('hands the cost model the operations of the modules that ran', () => {
    expect(operationsOf([ran('reads', 1), missing, ran('writes', 1)]).map((o) => o.operation)).toEqual(['reads', 'writes']);
  });

  it('reports each module with its time and state, then one table of every budget and the notes', () => {
    const report = formatRun([ran('reads', 1), ran('writes', 3), threw, missing], 42);
    expect(report).toMatch(/^Modules \(42 s in all\):/);
    expect(report).toMatch(/reads\s+1\.5 s\s+1 budget line\(s\), all PASS/);
    expect(report).toMatch(/writes\s+1\.5 s\s+1 budget line\(s\), 1 FAIL/);
    expect(report).toMatch(/bundles\s+2\.0 s\s+threw: esbuild failed/);
    expect(report).toMatch(/imports\s+0\.0 s\s+not run: bench\/imports\.ts does not exist/);
    expect(report.match(/note add: reads/g)).toHaveLength(2);
    expect(report).toContain('note of writes');
    expect(report).toMatch(/NOT every budget met/);
  });
});

describe('the JSON a module process hands back', () => {
  it('keeps infinite figures, which plain JSON turns to null', () => {
    const outcome = { results: [{ ...budget(Number.POSITIVE_INFINITY), limit: Number.POSITIVE_INFINITY }], notes: ['a'] };
    expect(JSON.parse(JSON.stringify(outcome)).results[0].measured).toBeNull();
    expect(fromJson(toJson(outcome))).toEqual(outcome);
  });
});

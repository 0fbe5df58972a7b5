/**
 * What the measured work costs in AWS (issue 13, budget 8): the cost model prices the `OperationCost` figures the
 * other modules measured (bench/support/report.ts) at the list prices of bench/support/prices.ts, and measures
 * nothing itself. Two tables, printed as notes, and a result line per headline figure (budget 8 has no limit: each
 * line is `≤ Infinity`, there to be quoted, never to fail):
 *
 * - **per 1 million API calls, by operation**: DynamoDB on-demand (each measured read unit an RRU, each write unit
 *   a WRU), the Lambda request and its duration (the operation's median time in the bench at the API functions'
 *   1,024 MB), and the API Gateway HTTP API request;
 * - **per 10,000 clients per month of automation**, for a stated mix: each client has one monthly service, so each
 *   month one renewal (its invoice, mailed), one auto-debit charge (its receipt, mailed) and one notice (mailed),
 *   all in one company whose run goes every day. The renewal is the automation bench's whole run per due service
 *   (all six tasks, so the other tasks' reads of the new invoice are in it); the charge is the write bench's
 *   stored-card payment when it ran; the state machine's transitions and the task Lambda's invocations are counted
 *   from the definition (lib/automation.ts) and the pages measured.
 *
 * Lambda duration is the time measured here on a shared 2-core machine against DynamoDB Local: an upper bound for a
 * Lambda of 1 GB (DynamoDB in AWS answers in single-digit milliseconds), so Lambda is the least precise line.
 *
 *   npx tsx bench/cost.ts   (with no other module's outcomes: prices what it is given, i.e. nothing)
 */
import { isEntry } from './support/dynamo.js';
import { PRICES, priceSource } from './support/prices.js';
import { formatTable, type BenchOutcome, type BudgetResult, type OperationCost } from './support/report.js';

/** Memory of the API area functions, the task function and the import worker (lib/function.ts default). */
const FUNCTION_GB = 1024 / 1024;
/** The state machine (lib/automation.ts): "T: page" and "T: more?" per page. */
const TRANSITIONS_PER_PAGE = 2;
/** "T?" and "T: first page" per task, six tasks; "Resume?", "Finish run", "Run finished" per run. */
const TRANSITIONS_PER_RUN = 6 * 2 + 3;
/** Task Lambda invocations of a run with nothing due: one page per task and the finish. */
const INVOCATIONS_PER_IDLE_RUN = 6 + 1;
const DAYS_PER_MONTH = 30;
const CLIENTS = 10_000;
/** Mail per client per month in the mix: the renewal invoice, the auto-debit receipt, one notice. */
const EMAILS_PER_CLIENT = 3;
/** Messages an import's 1 MiB chunk costs on SQS (the object-created event or chunk message: send, receive, delete). */
const SQS_REQUESTS_PER_CHUNK = 3;
const ROWS_PER_CHUNK = 14_000;

const usd = (n: number) => (n >= 100 ? `$${n.toFixed(0)}` : n >= 1 ? `$${n.toFixed(2)}` : `$${n.toFixed(4)}`);

interface Priced {
  dynamo: number;
  lambda: number;
  other: number;
  total: number;
}

/** One operation, once: DynamoDB units, one Lambda invocation of its measured time, plus `other` (API Gateway, SQS…). */
function priceOnce(op: OperationCost, other = 0, invocations = 1): Priced {
  const dynamo = (op.readCapacity * PRICES.dynamodb.perMillionReadUnits + op.writeCapacity * PRICES.dynamodb.perMillionWriteUnits) / 1e6;
  const lambda = (invocations * PRICES.lambda.perMillionRequests) / 1e6 + (op.ms / 1000) * FUNCTION_GB * PRICES.lambda.perGbSecond;
  return { dynamo, lambda, other, total: dynamo + lambda + other };
}

const find = (ops: readonly OperationCost[], pattern: RegExp) => ops.find((o) => pattern.test(o.operation));

/** A plain-text table: the first column (and any in `left`) aligned left, the figures right. */
function table(head: string[], rows: string[][], left: readonly number[] = []): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 || left.includes(i) ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

export async function run(previous: BenchOutcome[] = []): Promise<BenchOutcome> {
  const ops = previous.flatMap((o) => o.operations ?? []);
  const results: BudgetResult[] = [];
  const notes: string[] = [`cost: ${priceSource}; Lambda arm64 at ${FUNCTION_GB * 1024} MB, duration = the bench's median time (an upper bound)`];
  const line = (name: string, dollars: number, detail: string) =>
    results.push({ budget: 8, name, measured: dollars, limit: Number.POSITIVE_INFINITY, kind: 'max', detail });

  // Per 1 million API calls, by operation.
  const api = ops.filter((o) => !/^automation |^import row$/.test(o.operation));
  if (api.length) {
    const rows = api.map((op) => {
      const p = priceOnce(op, PRICES.apiGateway.perMillionHttpRequests / 1e6);
      const m = (n: number) => usd(n * 1e6);
      line(`cost per 1M ${op.operation} (USD)`, p.total * 1e6, `DynamoDB ${m(p.dynamo)} + Lambda ${m(p.lambda)} + API Gateway ${m(p.other)}`);
      return [
        op.operation,
        op.calls.toFixed(1),
        op.readCapacity.toFixed(1),
        op.writeCapacity.toFixed(1),
        op.ms.toFixed(1),
        m(p.dynamo),
        m(p.lambda),
        m(p.other),
        m(p.total),
      ];
    });
    notes.push('cost per 1 million API calls:', ...table(['operation', 'calls', 'RRU', 'WRU', 'ms', 'DynamoDB', 'Lambda', 'API GW', 'total'], rows));
  } else notes.push('cost per 1 million API calls: no API operation was measured in this run (reads, writes, overhead, hot-keys did not run).');

  // Imports, per 1 million rows.
  const row = find(ops, /^import row$/);
  if (row) {
    const sqs = ((1e6 / ROWS_PER_CHUNK) * SQS_REQUESTS_PER_CHUNK * PRICES.sqs.perMillionRequests) / 1e6;
    const p = priceOnce({ ...row, ms: row.ms * 1e6 }, sqs, 1e6 / ROWS_PER_CHUNK);
    const dynamo = p.dynamo * 1e6;
    line(
      'cost per 1M imported rows (USD)',
      dynamo + p.lambda + sqs,
      `DynamoDB ${usd(dynamo)} + Lambda ${usd(p.lambda)} + SQS ${usd(sqs)}; no logins (Cognito is extra)`,
    );
    notes.push(
      `imports, per 1 million rows: DynamoDB ${usd(dynamo)} (${row.writeCapacity.toFixed(1)} WRU, ${row.readCapacity.toFixed(1)} RRU a row), Lambda ${usd(p.lambda)} (${row.ms.toFixed(1)} worker-ms a row), SQS ${usd(sqs)}; total ${usd(dynamo + p.lambda + sqs)}`,
    );
  } else notes.push('imports: not measured in this run.');

  // Automation, per 10,000 clients per month.
  const perDue = find(ops, /^automation per due object$/);
  const page = find(ops, /^automation page$/);
  if (perDue && page) {
    const pagesPerDue = perDue.ms / page.ms;
    const renewals = priceOnce(
      { ...perDue, ms: perDue.ms * CLIENTS, readCapacity: perDue.readCapacity * CLIENTS, writeCapacity: perDue.writeCapacity * CLIENTS },
      0,
      pagesPerDue * CLIENTS,
    );
    // The auto-debit charge is a stored-card payment (not an offline record, which lists first).
    const payment = find(ops, /^stored-card payment/i) ?? find(ops, /charge/i);
    const charges = payment
      ? priceOnce({ ...payment, ms: payment.ms * CLIENTS, readCapacity: payment.readCapacity * CLIENTS, writeCapacity: payment.writeCapacity * CLIENTS }, 0, 0)
      : undefined;
    const idle = priceOnce(
      { operation: 'idle run', calls: 0, readCapacity: 0, writeCapacity: 0, ms: page.ms * INVOCATIONS_PER_IDLE_RUN },
      0,
      INVOCATIONS_PER_IDLE_RUN,
    );
    const idleMonth = idle.total * DAYS_PER_MONTH;
    const transitions = DAYS_PER_MONTH * TRANSITIONS_PER_RUN + TRANSITIONS_PER_PAGE * pagesPerDue * CLIENTS;
    const stepFunctions = transitions * PRICES.stepFunctions.perTransition;
    const ses = CLIENTS * EMAILS_PER_CLIENT * PRICES.ses.perEmail;
    const dynamo = renewals.dynamo + (charges?.dynamo ?? 0);
    const lambda = renewals.lambda + (charges?.lambda ?? 0) + idleMonth;
    const total = dynamo + lambda + stepFunctions + ses;
    const rows = [
      [
        'DynamoDB',
        usd(dynamo),
        `renewal run ${perDue.readCapacity.toFixed(1)} RRU + ${perDue.writeCapacity.toFixed(1)} WRU per due service${charges ? `, charge ${payment?.readCapacity.toFixed(1)} RRU + ${payment?.writeCapacity.toFixed(1)} WRU` : ', charge not measured'}`,
      ],
      [
        'Lambda',
        usd(lambda),
        `${(pagesPerDue * CLIENTS + DAYS_PER_MONTH * INVOCATIONS_PER_IDLE_RUN).toFixed(0)} task invocations, ${((perDue.ms * CLIENTS) / 1000 / 60).toFixed(0)} min of renewal pages`,
      ],
      [
        'Step Functions',
        usd(stepFunctions),
        `${transitions.toFixed(0)} transitions (${DAYS_PER_MONTH} daily runs × ${TRANSITIONS_PER_RUN} + ${TRANSITIONS_PER_PAGE} a page)`,
      ],
      ['SES', usd(ses), `${CLIENTS * EMAILS_PER_CLIENT} emails (invoice, receipt, notice per client)`],
      ['total', usd(total), `${usd(total / CLIENTS)} per client per month`],
    ];
    line(
      'cost per 10,000 clients per month of automation (USD)',
      total,
      `DynamoDB ${usd(dynamo)} + Lambda ${usd(lambda)} + Step Functions ${usd(stepFunctions)} + SES ${usd(ses)}`,
    );
    notes.push(
      `automation, per ${CLIENTS.toLocaleString('en-US')} clients per month (one company; each client: 1 monthly service renewed and invoiced, 1 auto-debit charge, 1 notice; 3 emails):`,
      ...table(['', 'USD', 'from'], rows, [2]),
    );
    if (!charges) notes.push('  (the auto-debit charge is not priced: no payment operation was measured in this run)');
  } else notes.push('automation: not measured in this run.');

  return { results, notes };
}

if (isEntry(import.meta.url)) {
  const outcome = await run([]);
  console.log(formatTable(outcome.results));
  for (const note of outcome.notes ?? []) console.log(note);
}

/**
 * Budget 5 of issue 13: the API's own overhead on a profile read (`GET /v1/clients/{id}`). The same DynamoDB
 * commands the route sends are recorded once (as sent, marshalled) and replayed raw with a plain DynamoDB client;
 * then N profile reads and N raw replays run at the same concurrency, interleaved in rounds, and the median of the
 * rounds' throughput ratios is the figure (API ÷ raw ≥ 0.8). Two ways in, each its own line:
 * - the Lambda handler of the clients area, called with the API Gateway event the route receives (middy, the
 *   pipeline: principal from the authorizer's claims, validation, the route, the response) — Billow's overhead;
 * - the local HTTP API of `npm start` in this process (the HTTP client and server, the token verified as API
 *   Gateway's authorizer would), which adds what API Gateway does in AWS, and the client, on the same two cores.
 *
 *   npx tsx bench/overhead.ts [requests per round=150] [concurrency=10]
 */
import '../bin/local/preamble.js';
import { randomUUID } from 'node:crypto';
import * as dynamodb from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { verifyLocalToken } from '../functions/adapters/identity/local.js';
import type { ApiEvent } from '../functions/http/pipeline.js';
import { db } from '../functions/store/dynamo.js';
import { areaHandlerLoader } from '../bin/local/server.js';
import { runStandalone } from './support/dynamo.js';
import { inParallel, measure, median } from './support/measure.js';
import type { BenchOutcome, BudgetResult } from './support/report.js';
import { startBenchStack } from './support/stack.js';

const ROUNDS = 9;
const LIMIT = 0.8;
const ROUTE = 'GET /v1/clients/{id}';

/** A DynamoDB command as the route sent it (after marshalling), and when, to tell calls made together from calls made in turn. */
interface SentCommand {
  name: string;
  input: Record<string, unknown>;
  started: number;
  ended: number;
}

let capturing: SentCommand[] | undefined;
let installed = false;

function installCapture(): void {
  if (installed) return;
  installed = true;
  // At `serialize` the document client has marshalled the input: what is captured is what a plain client sends.
  db().middlewareStack.add(
    (next, context) => async (args) => {
      if (!capturing) return next(args);
      const sent: SentCommand = {
        name: String((context as { commandName?: string }).commandName),
        input: structuredClone(args.input as Record<string, unknown>),
        started: performance.now(),
        ended: 0,
      };
      capturing.push(sent);
      try {
        return await next(args);
      } finally {
        sent.ended = performance.now();
      }
    },
    { step: 'serialize', name: 'billowBenchCapture', priority: 'high' },
  );
}

/** The captured commands in waves: a command that started before the previous one ended was sent with it. */
function waves(sent: SentCommand[]): SentCommand[][] {
  const out: SentCommand[][] = [];
  for (const s of sent) {
    const last = out[out.length - 1];
    if (last && s.started < Math.max(...last.map((c) => c.ended))) last.push(s);
    else out.push([s]);
  }
  return out;
}

type CommandClass = new (input: unknown) => dynamodb.DynamoDBClient extends { send(c: infer C): unknown } ? C : never;

async function throughput(requests: number, concurrency: number, one: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await inParallel(requests, concurrency, one);
  return requests / ((performance.now() - started) / 1000);
}

export async function run(requests = 150, concurrency = 10): Promise<BenchOutcome> {
  const stack = await startBenchStack();
  try {
    const company = await stack.createCompany('Bench overhead');
    const token = company.staffToken;
    const client = (
      await stack.call('POST', '/v1/clients', { token, body: { firstName: 'Pro', lastName: 'File', email: 'profile@example.com', city: 'Springfield' } })
    ).body.id as string;
    for (const n of [1, 2, 3]) await stack.call('POST', `/v1/clients/${client}/notes`, { token, body: { summary: `sticky ${n}`, sticky: true } });
    const path = `/v1/clients/${client}`;

    // The Lambda handler with the event API Gateway would send after verifying the token.
    const claims = Object.fromEntries(Object.entries(await verifyLocalToken(token)).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
    const handler = await areaHandlerLoader()('clients');
    const context = { functionName: 'billow-clients', awsRequestId: 'bench', getRemainingTimeInMillis: () => 20_000 } as Context;
    const viaHandler = async () => {
      const requestId = randomUUID();
      const event = {
        version: '2.0',
        routeKey: ROUTE,
        rawPath: path,
        rawQueryString: '',
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        pathParameters: { id: client },
        isBase64Encoded: false,
        requestContext: {
          requestId,
          routeKey: ROUTE,
          http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
          authorizer: { jwt: { claims } },
        },
      } as unknown as ApiEvent;
      const result = (await handler(event, { ...context, awsRequestId: requestId })) as { statusCode: number; body: string };
      if (result.statusCode !== 200) throw new Error(`the profile read answered ${result.statusCode}: ${result.body}`);
      JSON.parse(result.body);
    };
    const viaHttp = () => stack.call('GET', path, { token });

    // The route's DynamoDB commands, captured once and replayed raw.
    installCapture();
    await viaHandler();
    capturing = [];
    await viaHandler();
    const sent = capturing;
    capturing = undefined;
    const raw = new dynamodb.DynamoDBClient({});
    const commands = dynamodb as unknown as Record<string, CommandClass>;
    const plan = waves(sent);
    const viaRaw = async () => {
      for (const wave of plan) await Promise.all(wave.map((c) => raw.send(new commands[c.name](structuredClone(c.input)))));
    };

    const profile = await measure(viaHandler);
    // Warm every path alike before anything is timed.
    for (const one of [viaHandler, viaHttp, viaRaw]) await throughput(requests / 2, concurrency, one);
    const rounds = { handler: [] as number[], http: [] as number[], raw: [] as number[] };
    // The machine is shared: each round's API figures are compared with the raw figure of the same round, and the
    // order within a round turns, so a slow moment weighs on all three alike.
    const ways = [
      ['raw', viaRaw],
      ['handler', viaHandler],
      ['http', viaHttp],
    ] as const;
    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < ways.length; k++) {
        const [name, one] = ways[(r + k) % ways.length];
        rounds[name].push(await throughput(requests, concurrency, one));
      }
    }
    const latency: number[] = [];
    for (let i = 0; i < 30; i++) latency.push((await measure(viaHandler)).ms);
    raw.destroy();

    const line = (name: string, values: number[], how: string): BudgetResult => ({
      budget: 5,
      name,
      measured: median(values.map((v, r) => v / rounds.raw[r])),
      limit: LIMIT,
      kind: 'min',
      detail: `median of ${ROUNDS} rounds' ratios (${median(values).toFixed(0)} vs ${median(rounds.raw).toFixed(0)} requests/s median) at concurrency ${concurrency}, ${requests} requests a round (${how}); raw: the route's ${sent.length} commands (${sent.map((c) => c.name.replace(/Command$/, '')).join(', ')}) with a plain client`,
    });
    console.log(
      `  raw ${rounds.raw.map((v) => v.toFixed(0)).join(' ')}   handler ${rounds.handler.map((v) => v.toFixed(0)).join(' ')}   http ${rounds.http.map((v) => v.toFixed(0)).join(' ')} requests/s`,
    );
    return {
      results: [
        line('profile read, Lambda handler ÷ raw DynamoDB', rounds.handler, 'middy, pipeline, validation, route'),
        line('profile read, local HTTP API ÷ raw DynamoDB', rounds.http, 'plus HTTP client and server and the token check, in this process'),
      ],
      operations: [{ operation: ROUTE, calls: profile.calls, readCapacity: profile.readCapacity, writeCapacity: profile.writeCapacity, ms: median(latency) }],
    };
  } finally {
    await stack.stop();
  }
}

await runStandalone(import.meta.url, () => {
  const [requests, concurrency] = process.argv.slice(2).map(Number);
  return run(requests || undefined, concurrency || undefined);
});

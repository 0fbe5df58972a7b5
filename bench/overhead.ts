/**
 * Budget 5 of issue 13: the API's own overhead on a profile read (`GET /v1/clients/{id}`). The same DynamoDB
 * commands the route sends are recorded once (as sent, marshalled) and replayed raw with a plain DynamoDB client;
 * then N profile reads and N raw replays run at the same concurrency, interleaved in rounds, and the median of the
 * rounds' throughput ratios is the figure (API ÷ raw ≥ 0.8). Two ways in, each its own line:
 * - the Lambda handler of the clients area, called with the API Gateway event the route receives (middy, the
 *   pipeline: principal from the authorizer's claims, validation, the route, the response) — Billow's overhead;
 * - the local HTTP API of `npm start` in this process (the HTTP client and server, the token verified as API
 *   Gateway's authorizer would), which adds what API Gateway does in AWS, and the client, on the same two cores.
 *   It is judged against the raw commands behind a bare `node:http` server in this process, called by the same HTTP
 *   client ("raw over HTTP"): in AWS the client and API Gateway are not on the Lambda's CPU, while here the client's
 *   fetch and Node's HTTP parsing share the two cores with everything else, and raw SDK calls without HTTP would
 *   charge that cost to the API alone. The ratio to the raw SDK calls without HTTP is printed too, as a note.
 * The CPU time this process spends per request on each way (process.cpuUsage, DynamoDB Local being another process)
 * is printed as well: unlike throughput, it does not move with what else runs on the machine.
 *
 *   npx tsx bench/overhead.ts [requests per round=150] [concurrency=10]
 */
import '../bin/local/preamble.js';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
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

/** Requests a second, and the CPU time of this process per request (ms). */
async function throughput(requests: number, concurrency: number, one: () => Promise<unknown>): Promise<{ perSecond: number; cpuMs: number }> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  await inParallel(requests, concurrency, one);
  const used = process.cpuUsage(cpu);
  return { perSecond: requests / ((performance.now() - started) / 1000), cpuMs: (used.user + used.system) / 1000 / requests };
}

/** One GET as a client of the API sends it (the same for the API and the bare server): a token, the JSON answer read. */
function getter(baseUrl: string, token: string): (path: string) => Promise<unknown> {
  return async (path) => {
    const res = await fetch(baseUrl + path, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`GET ${baseUrl}${path} answered ${res.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text);
  };
}

/** A bare `node:http` server that answers every request with `answer()` as JSON: no routing, no token, no pipeline. */
async function bareServer(answer: () => Promise<unknown>): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(async (req, res) => {
    for await (const _ of req);
    try {
      const body = JSON.stringify(await answer());
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(body);
    } catch (error) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export async function run(requests = 150, concurrency = 10): Promise<BenchOutcome> {
  const stack = await startBenchStack();
  let bare: Awaited<ReturnType<typeof bareServer>> | undefined;
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
    const viaHttp = () => getter(stack.facts.apiUrl, token)(path);

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
    /** The raw commands in the route's waves; what they read, for the bare server to answer with. */
    const rawRead = async () => {
      const outputs: unknown[] = [];
      for (const wave of plan) outputs.push(...(await Promise.all(wave.map((c) => raw.send(new commands[c.name](structuredClone(c.input)))))));
      return outputs.map((o) => (o as { Item?: unknown; Items?: unknown }).Item ?? (o as { Items?: unknown }).Items);
    };
    const viaRaw = rawRead;
    bare = await bareServer(rawRead);
    const viaRawHttp = getter(bare.url, token).bind(null, path);

    const profile = await measure(viaHandler);
    // Warm every path alike before anything is timed.
    for (const one of [viaHandler, viaHttp, viaRaw, viaRawHttp]) await throughput(requests / 2, concurrency, one);
    type Way = 'raw' | 'handler' | 'http' | 'rawHttp';
    const rounds: Record<Way, number[]> = { raw: [], handler: [], http: [], rawHttp: [] };
    const cpu: Record<Way, number[]> = { raw: [], handler: [], http: [], rawHttp: [] };
    // The machine is shared: each round's API figures are compared with the raw figures of the same round, and the
    // order within a round turns, so a slow moment weighs on all four alike.
    const ways: ReadonlyArray<readonly [Way, () => Promise<unknown>]> = [
      ['raw', viaRaw],
      ['handler', viaHandler],
      ['rawHttp', viaRawHttp],
      ['http', viaHttp],
    ];
    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < ways.length; k++) {
        const [name, one] = ways[(r + k) % ways.length];
        const measured = await throughput(requests, concurrency, one);
        rounds[name].push(measured.perSecond);
        cpu[name].push(measured.cpuMs);
      }
    }
    const latency: number[] = [];
    for (let i = 0; i < 30; i++) latency.push((await measure(viaHandler)).ms);
    raw.destroy();

    const ratioTo = (values: number[], base: Way) => median(values.map((v, r) => v / rounds[base][r]));
    const commandsSent = `the route's ${sent.length} commands (${sent.map((c) => c.name.replace(/Command$/, '')).join(', ')}) with a plain client`;
    const line = (name: string, way: Way, base: Way, how: string): BudgetResult => ({
      budget: 5,
      name,
      measured: ratioTo(rounds[way], base),
      limit: LIMIT,
      kind: 'min',
      detail: `median of ${ROUNDS} rounds' ratios (${median(rounds[way]).toFixed(0)} vs ${median(rounds[base]).toFixed(0)} requests/s median) at concurrency ${concurrency}, ${requests} requests a round (${how})`,
    });
    const perRequest = (way: Way) => `${median(cpu[way]).toFixed(2)} ms`;
    console.log(
      (Object.keys(rounds) as Way[]).map((way) => `  ${way.padEnd(7)} ${rounds[way].map((v) => v.toFixed(0).padStart(4)).join(' ')} requests/s`).join('\n'),
    );
    return {
      results: [
        line('profile read, Lambda handler ÷ raw DynamoDB', 'handler', 'raw', `middy, pipeline, validation, route; raw: ${commandsSent}`),
        line(
          'profile read, local HTTP API ÷ raw over HTTP',
          'http',
          'rawHttp',
          `plus the token check and the API Gateway event; raw over HTTP: ${commandsSent} behind a bare node:http server, the same HTTP client`,
        ),
      ],
      notes: [
        `overhead: local HTTP API ÷ raw DynamoDB without HTTP ${ratioTo(rounds.http, 'raw').toFixed(2)} (${median(rounds.http).toFixed(0)} vs ${median(rounds.raw).toFixed(0)} requests/s; the HTTP client and server share this process's CPU, which only the API side pays); raw over HTTP ÷ raw ${ratioTo(rounds.rawHttp, 'raw').toFixed(2)}`,
        `overhead: CPU of this process per request (median of rounds): raw ${perRequest('raw')}, Lambda handler ${perRequest('handler')}, raw over HTTP ${perRequest('rawHttp')}, local HTTP API ${perRequest('http')}`,
      ],
      operations: [{ operation: ROUTE, calls: profile.calls, readCapacity: profile.readCapacity, writeCapacity: profile.writeCapacity, ms: median(latency) }],
    };
  } finally {
    await bare?.close();
    await stack.stop();
  }
}

await runStandalone(import.meta.url, () => {
  const [requests, concurrency] = process.argv.slice(2).map(Number);
  return run(requests || undefined, concurrency || undefined);
});

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalFacts } from '../../../bin/local/stack.js';

/** `npm start` as start.e2e.test.ts runs it: `tsx bin/local.ts` in a process group of its own. */
const root = fileURLToPath(new URL('../../..', import.meta.url));
const tsx = join(root, 'node_modules', '.bin', 'tsx');

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started: ChildProcess[] = [];
const stateDirs: string[] = [];

function start(): { run: Run; stateDir: string } {
  const stateDir = mkdtempSync(join(tmpdir(), 'billow-restart-'));
  stateDirs.push(stateDir);
  const child = spawn(tsx, ['bin/local.ts'], {
    cwd: root,
    env: { ...process.env, BILLOW_STATE_DIR: stateDir, BILLOW_PORT: '0', POWERTOOLS_LOG_LEVEL: 'CRITICAL' },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { run: { child, stdout: () => stdout, stderr: () => stderr, exited }, stateDir };
}

afterEach(() => {
  for (const child of started.splice(0)) {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const dir of stateDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Polls `check` until it returns something, failing with `what` (and the run's output) after `limitMs`. */
async function waitFor<T>(run: Run, what: string, check: () => T | undefined | Promise<T | undefined>, limitMs = 60_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const found = await check();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`Waited in vain for ${what}:\n${run.stdout()}\n${run.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function factsOf(run: Run, stateDir: string): Promise<LocalFacts> {
  await waitFor(run, 'the banner', () => (run.stdout().includes('Billow is running') ? true : undefined));
  return JSON.parse(readFileSync(join(stateDir, 'local.json'), 'utf8')) as LocalFacts;
}

/** The process id of the DynamoDB Local this state folder's stack runs on `port`, if one runs. */
function javaPid(stateDir: string, port: number): number | undefined {
  const out = spawnSync('pgrep', ['-f', `DynamoDBLocal.jar -port ${port} .*-dbPath ${stateDir}/`], { encoding: 'utf8' });
  const pids = out.stdout.split('\n').filter(Boolean).map(Number);
  if (pids.length > 1) throw new Error(`More than one DynamoDB Local on port ${port}: ${pids.join(', ')}`);
  return pids[0];
}

const portOf = (endpoint: string) => Number(new URL(endpoint).port);

function refusesConnections(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED' ? true : undefined));
  });
}

/** SIGKILL, as a crash or the OOM killer would; resolves once nothing listens on its port any more. */
async function killJava(run: Run, stateDir: string, port: number): Promise<number> {
  const pid = javaPid(stateDir, port);
  if (!pid) throw new Error(`No DynamoDB Local on port ${port}:\n${run.stdout()}\n${run.stderr()}`);
  process.kill(pid, 'SIGKILL');
  await waitFor(run, `port ${port} to refuse connections`, () => refusesConnections(port));
  return pid;
}

async function call(facts: LocalFacts, method: string, path: string, body?: unknown) {
  const res = await fetch(facts.apiUrl + path, {
    method,
    headers: { authorization: `Bearer ${facts.staffToken}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

const restartLines = (run: Run) => run.stdout().match(/^DynamoDB Local stopped unexpectedly.*$/gm) ?? [];

describe('npm start when DynamoDB Local dies', () => {
  it('answers 503 with Retry-After and a requestId while it is down, restarts it on the same port and data, and serves the same data again', async () => {
    const { run, stateDir } = start();
    const facts = await factsOf(run, stateDir);
    const port = portOf(facts.dynamodb.endpoint);
    const group = await call(facts, 'POST', '/v1/client-groups', { name: 'Outlives a crash' });
    expect(group.status).toBe(201);

    const killed = await killJava(run, stateDir, port);

    // Asked again and again until it answers: every answer before is a fault answered as one.
    const outage: Awaited<ReturnType<typeof call>>[] = [];
    const read = await waitFor(run, 'a 200 after the restart', async () => {
      const res = await call(facts, 'GET', `/v1/client-groups/${group.body.id}`);
      if (res.status === 200) return res;
      outage.push(res);
      return undefined;
    });
    expect(outage.length, 'no request met the outage').toBeGreaterThan(0);
    for (const res of outage) {
      expect(res.status, JSON.stringify(res.body)).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.body).toMatchObject({ status: 503, code: 'service_unavailable', requestId: res.headers.get('x-request-id') });
    }
    expect(read.body.name).toBe('Outlives a crash');

    const restarted = await waitFor(run, 'the restart line', () => restartLines(run)[0]);
    expect(restarted).toBe(`DynamoDB Local stopped unexpectedly (killed by SIGKILL); started it again on port ${port} with the same data.`);
    expect(javaPid(stateDir, port)).not.toBe(killed);
    const written = await call(facts, 'POST', '/v1/client-groups', { name: 'Written after the restart' });
    expect(written.status).toBe(201);

    run.child.kill('SIGINT');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(restartLines(run)).toHaveLength(1);
    expect(javaPid(stateDir, port), 'DynamoDB Local outlived the run').toBeUndefined();
  }, 120_000);

  it('exits non-zero with one sentence when it dies three times within a minute', async () => {
    const { run, stateDir } = start();
    const facts = await factsOf(run, stateDir);
    const port = portOf(facts.dynamodb.endpoint);
    for (let restarts = 1; restarts <= 2; restarts++) {
      await killJava(run, stateDir, port);
      await waitFor(run, `restart ${restarts}`, () => (restartLines(run).length === restarts ? true : undefined));
    }
    await killJava(run, stateDir, port);

    const exit = await run.exited;
    expect(exit).toEqual({ code: 1, signal: null });
    const stderr = run.stderr().trim();
    expect(stderr.split('\n'), stderr).toHaveLength(1);
    expect(stderr).toMatch(/^Billow stopped: DynamoDB Local died 3 times within 60 seconds \(last killed by SIGKILL\), so it is not started again\./);
    expect(restartLines(run)).toHaveLength(2);
    expect(javaPid(stateDir, port), 'DynamoDB Local was started again').toBeUndefined();
  }, 120_000);
});

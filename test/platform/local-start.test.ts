import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../bin/local/dynamodb-local.js';
import type { LocalFacts } from '../../bin/local/stack.js';

/**
 * `npm start` as a user runs it: `tsx bin/local.ts` in a child process (npm's own wrapper is left out because
 * npm reports a Ctrl-C as death by signal whatever the program's exit code; the program is the same).
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = join(root, 'node_modules', '.bin', 'tsx');

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();

function start(stateDir: string, port: number): Run {
  rmSync(join(stateDir, 'local.json'), { force: true });
  // Its own process group, so whatever is left (tsx, node, DynamoDB Local's java) can be cleaned up by group id.
  const child = spawn(tsx, ['bin/local.ts'], {
    cwd: root,
    env: { ...process.env, BILLOW_STATE_DIR: stateDir, BILLOW_PORT: String(port), POWERTOOLS_LOG_LEVEL: 'WARN' },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Ready once it has printed its banner, which comes after local.json is written. */
async function waitForFacts(run: Run, stateDir: string): Promise<LocalFacts> {
  const deadline = Date.now() + 40_000;
  let exited = false;
  void run.exited.then(() => (exited = true));
  while (!run.stdout().includes('Billow is running')) {
    if (exited) throw new Error(`npm start exited early:\n${run.stdout()}\n${run.stderr()}`);
    if (Date.now() > deadline) throw new Error(`npm start did not become ready:\n${run.stdout()}\n${run.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return JSON.parse(readFileSync(join(stateDir, 'local.json'), 'utf8')) as LocalFacts;
}

const within = <T>(promise: Promise<T>, ms: number, what: string) =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms))]);

/** stderr without npm's or Node's environment chatter that is not Billow's. */
const ownStderr = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.trim() !== '' && !/^npm warn/i.test(l))
    .join('\n');

let stateDir: string;
let port: number;

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'billow-start-'));
  port = await freePort();
});

afterAll(async () => {
  for (const child of running) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(stateDir, { recursive: true, force: true });
});

async function call(facts: LocalFacts, method: string, path: string, body?: unknown) {
  const res = await fetch(facts.apiUrl + path, {
    method,
    headers: { authorization: `Bearer ${facts.staffToken}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

describe('npm start', () => {
  let firstFacts: LocalFacts;
  let groupId: string;

  it('starts, writes local.json, serves the API with the seeded staff token, and stops cleanly on Ctrl-C', async () => {
    const run = start(stateDir, port);
    firstFacts = await waitForFacts(run, stateDir);
    expect(firstFacts).toMatchObject({ apiUrl: `http://127.0.0.1:${port}`, companyId: expect.stringMatching(/^co_/), staffToken: expect.any(String), operatorToken: expect.any(String) });
    // It prints the same facts.
    for (const fact of [firstFacts.apiUrl, firstFacts.companyId, firstFacts.staffPassword, firstFacts.operatorPassword]) expect(run.stdout()).toContain(fact);

    const health = await fetch(`${firstFacts.apiUrl}/v1/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const created = await call(firstFacts, 'POST', '/v1/client-groups', { name: 'Survives restarts' });
    expect(created.status).toBe(201);
    groupId = created.body.id;

    run.child.kill('SIGINT');
    const exit = await within(run.exited, 15_000, 'stopping');
    expect(exit, run.stderr()).toEqual({ code: 0, signal: null });
    expect(run.stdout()).toMatch(/Stopped/);
    expect(ownStderr(run.stderr())).toBe('');
  }, 60_000);

  it('starts again on the same state: same company, same data', async () => {
    expect(groupId).toBeDefined();
    const run = start(stateDir, port);
    const facts = await waitForFacts(run, stateDir);
    expect(facts.companyId).toBe(firstFacts.companyId);
    expect(facts.staffPassword).toBe(firstFacts.staffPassword);
    const read = await call(facts, 'GET', `/v1/client-groups/${groupId}`);
    expect(read.status).toBe(200);
    expect(read.body.name).toBe('Survives restarts');
    // One company, not a second demo company.
    const companies = await fetch(`${facts.apiUrl}/v1/companies`, { headers: { authorization: `Bearer ${facts.operatorToken}` } });
    expect(((await companies.json()) as { data: unknown[] }).data).toHaveLength(1);

    run.child.kill('SIGINT');
    expect(await within(run.exited, 15_000, 'stopping')).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('on a busy port prints one sentence, no stack trace, and exits non-zero quickly', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', () => resolve()));
    try {
      const began = Date.now();
      const run = start(stateDir, port);
      const exit = await within(run.exited, 15_000, 'failing on a busy port');
      expect(Date.now() - began).toBeLessThan(15_000);
      expect(exit.code).not.toBe(0);
      expect(exit.code).not.toBeNull();
      const message = ownStderr(run.stderr());
      expect(message.split('\n'), message).toHaveLength(1);
      expect(message).toMatch(new RegExp(`Port ${port} is already in use`));
      expect(message).not.toMatch(/\n\s+at |Error:|node:internal/);
      expect(run.stdout()).toBe('');
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  }, 20_000);
});

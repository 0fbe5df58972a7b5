import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import net from 'node:net';

/** A stand-in failure the local stack reports as one clear sentence, not a stack trace. */
export class LocalStackError extends Error {}

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  /** Java's process id. */
  pid: number;
  /** Settles when Java exits, for whatever reason (`stop()` included). */
  exited: Promise<JavaExit>;
  stop(): Promise<void>;
}

export interface JavaExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

function emulatorDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('amplify-dynamodb-simulator/package.json');
  return join(dirname(pkg), 'emulator');
}

export function javaAvailable(): boolean {
  const out = spawnSync('java', ['-version'], { stdio: 'ignore' });
  return out.status === 0;
}

export async function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * Where DynamoDB Local looks for a port when none is given: below the operating systems' ephemeral ranges (Linux
 * from 32768, macOS and Windows from 49152), so a server that asks for any free port (the API, the SES and S3
 * stand-ins, other tests) is never handed the one Java is about to bind. A port someone else chose is met by
 * trying another.
 */
const PORT_RANGE = { from: 20_000, to: 32_000 };
const PORT_ATTEMPTS = 10;
const STARTUP_LIMIT_MS = 30_000;

/**
 * Starts AWS's DynamoDB Local (the jar shipped in amplify-dynamodb-simulator): in memory for tests, or persisted
 * under `dataDir`. Resolves once it answers on the port it bound. Java cannot be told to take any free port and
 * report it, so without a `port` it tries ports from `nextPort` (random in PORT_RANGE) until one binds. With a
 * `port` a busy one is an error. Rejects with one sentence when Java is missing.
 */
export async function startDynamoDbLocal(options: { port?: number; dataDir?: string; nextPort?: () => number } = {}): Promise<DynamoDbLocal> {
  if (!javaAvailable()) {
    throw new LocalStackError('Java 17 is needed for DynamoDB Local and was not found: install it with `apt-get install -y openjdk-17-jre-headless`.');
  }
  if (options.dataDir && !existsSync(options.dataDir)) mkdirSync(options.dataDir, { recursive: true });
  if (options.port !== undefined) {
    const started = (await portIsFree(options.port, '0.0.0.0')) ? await launch(options.port, options.dataDir) : 'port taken';
    if (started === 'port taken')
      throw new LocalStackError(`Port ${options.port} is already in use, so DynamoDB Local cannot start there; free it or choose another port.`);
    return started;
  }
  const nextPort = options.nextPort ?? (() => PORT_RANGE.from + randomInt(PORT_RANGE.to - PORT_RANGE.from));
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    const port = nextPort();
    // Cheaper than starting Java; a port taken between this check and Java's bind is still caught in launch.
    if (!(await portIsFree(port))) continue;
    const started = await launch(port, options.dataDir);
    if (started !== 'port taken') return started;
  }
  throw new LocalStackError(`DynamoDB Local found no free port in ${PORT_ATTEMPTS} tries between ${PORT_RANGE.from} and ${PORT_RANGE.to}.`);
}

/** One start of DynamoDB Local on `port`; `'port taken'` when it could not bind (it then hangs, so it is killed). */
async function launch(port: number, dataDir: string | undefined): Promise<DynamoDbLocal | 'port taken'> {
  const dir = emulatorDir();
  const args = [
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
    '-jar',
    join(dir, 'DynamoDBLocal.jar'),
    '-port',
    String(port),
    '-disableTelemetry',
    '-sharedDb',
  ];
  args.push(...(dataDir ? ['-dbPath', dataDir] : ['-inMemory']));
  const child: ChildProcess = spawn('java', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<JavaExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const bindFailed = () => /Failed to bind|Address already in use/.test(output);
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };

  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + STARTUP_LIMIT_MS;
  // Something else may answer on the port while Java is still finding out it cannot bind. So only answers after
  // Java has printed its settings (it binds right after) count, and only when they are shaped like DynamoDB's and
  // come twice in a row with no bind failure printed in between.
  const bindAttempted = () => /^Port:\s*\d+/m.test(output);
  let answered = 0;
  while (answered < 2) {
    if (bindFailed()) {
      await kill();
      return 'port taken';
    }
    if (child.exitCode !== null) throw new LocalStackError(`DynamoDB Local exited at start: ${output.trim().split('\n').slice(-3).join(' ')}`);
    if (Date.now() > deadline) {
      await kill();
      throw new LocalStackError(`DynamoDB Local did not start within ${STARTUP_LIMIT_MS / 1000} seconds.`);
    }
    answered = bindAttempted() && (await answersAsDynamoDb(endpoint)) ? answered + 1 : 0;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.stdout?.off('data', collect);
  child.stderr?.off('data', collect);
  child.stdout?.resume();
  child.stderr?.resume();
  return {
    endpoint,
    port,
    pid: child.pid ?? 0,
    exited,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      await exited;
    },
  };
}

async function answersAsDynamoDb(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'x-amz-target': 'DynamoDB_20120810.ListTables',
        'content-type': 'application/x-amz-json-1.0',
        authorization: 'AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x',
      },
      body: '{}',
    });
    return res.status === 200 && Array.isArray(((await res.json()) as { TableNames?: unknown }).TableNames);
  } catch {
    return false;
  }
}

export interface Restart {
  /** How the Java that died ended. */
  exit: JavaExit;
  /** The Java started in its place, on the same port and data folder. */
  now: DynamoDbLocal;
}

export interface SupervisionOptions {
  dataDir?: string;
  /** Called once the replacement answers. */
  onRestarted(restart: Restart): void;
  /** Called when it died too often, or could not be started again; it stays down. */
  onGaveUp(error: LocalStackError): void;
  /** @default 3 deaths within 60 seconds */
  deathLimit?: { deaths: number; withinMs: number };
}

/** A killed Java frees its port at once; another program holding it is waited out this long before giving up. */
const RESTART_PORT_ATTEMPTS = 5;
const RESTART_PORT_WAIT_MS = 1000;

export const describeExit = (exit: JavaExit) => (exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`);

/**
 * Keeps a started DynamoDB Local running: when its Java exits without `stop()`, starts it again on the same port
 * and data folder (callers keep their endpoint), unless it died `deathLimit.deaths` times within
 * `deathLimit.withinMs`, when something is wrong that a restart will not fix. The object returned stands for
 * whichever Java currently runs; its `stop()` ends the supervision too.
 */
export function superviseDynamoDbLocal(first: DynamoDbLocal, options: SupervisionOptions): DynamoDbLocal {
  const limit = options.deathLimit ?? { deaths: 3, withinMs: 60_000 };
  let current = first;
  let stopping = false;
  let restarting: Promise<void> | undefined;
  let deaths: number[] = [];
  let finished: (exit: JavaExit) => void = () => undefined;
  const exited = new Promise<JavaExit>((resolve) => {
    finished = resolve;
  });

  const startAgain = async (): Promise<DynamoDbLocal> => {
    for (let attempt = 1; ; attempt++) {
      const started = await launch(first.port, options.dataDir);
      if (started !== 'port taken') return started;
      if (attempt === RESTART_PORT_ATTEMPTS) {
        throw new LocalStackError(
          `its port ${first.port} stayed taken by another program for ${(RESTART_PORT_ATTEMPTS * RESTART_PORT_WAIT_MS) / 1000} seconds`,
        );
      }
      await new Promise((r) => setTimeout(r, RESTART_PORT_WAIT_MS));
    }
  };

  const watch = (instance: DynamoDbLocal) => {
    void instance.exited.then(async (exit) => {
      if (stopping) return finished(exit);
      const now = Date.now();
      deaths = [...deaths.filter((at) => at > now - limit.withinMs), now];
      if (deaths.length >= limit.deaths) {
        finished(exit);
        return options.onGaveUp(
          new LocalStackError(
            `DynamoDB Local died ${deaths.length} times within ${limit.withinMs / 1000} seconds (last ${describeExit(exit)}), so it is not started again.`,
          ),
        );
      }
      restarting = (async () => {
        try {
          current = await startAgain();
        } catch (error) {
          finished(exit);
          options.onGaveUp(new LocalStackError(`DynamoDB Local died (${describeExit(exit)}) and could not be started again: ${(error as Error).message}`));
          return;
        }
        watch(current);
        // A stop() that came meanwhile waits for this restart and then stops what it started.
        if (!stopping) options.onRestarted({ exit, now: current });
      })();
      await restarting;
      restarting = undefined;
    });
  };
  watch(first);

  return {
    endpoint: first.endpoint,
    port: first.port,
    get pid() {
      return current.pid;
    },
    exited,
    stop: async () => {
      stopping = true;
      await restarting;
      await current.stop();
    },
  };
}

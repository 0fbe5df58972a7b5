/**
 * Fault injection: one switchable layer that makes the calls Billow sends to DynamoDB, S3, SES, Step Functions, SQS,
 * the payment gateway and the mailer fail now and then, as they do in production. Off unless a test turns it on
 * (`startFaults`) or the process is started with `BILLOW_FAULT_RATE` (the local stack: `BILLOW_FAULT_RATE=0.1
 * BILLOW_FAULT_SEED=7 npm start`). The hooks sit where the clients and adapters are built (`sdk.ts`, `ports.ts`); with
 * the layer off each call costs one property read. The CDK stack never sets the variable, so in AWS it stays off.
 *
 * The kinds, each what a caller of the service really meets:
 * - `throttle`: the service refused the call for its rate (nothing happened);
 * - `server`: the service failed (a 5xx; nothing happened);
 * - `timeout`: the call never reached the service (a connection that timed out; nothing happened);
 * - `lost`: the call reached the service and did what it asked, then its answer was lost (a connection reset while
 *   reading the answer): the caller sees an error for work that was done.
 *
 * Decisions come from a seeded PRNG, one stream per target, so a failing run is replayed with its seed (with
 * concurrent calls, which call meets which decision also depends on their order of arrival).
 */

export const FAULT_KINDS = ['throttle', 'server', 'timeout', 'lost'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** What a fault is injected into: an AWS SDK client or one of Billow's ports. */
export const FAULT_TARGETS = ['dynamodb', 's3', 'ses', 'sfn', 'sqs', 'gateway', 'mailer'] as const;
export type FaultTarget = (typeof FAULT_TARGETS)[number];

export interface FaultSettings {
  /** The share of calls that fail, 0–1. */
  rate: number;
  /** Seeds the PRNG; the same seed gives the same decisions in the same order. */
  seed: number;
  /** The kinds injected (each equally likely). @default all */
  kinds?: readonly FaultKind[];
  /** The targets faults are injected into. @default all */
  targets?: readonly FaultTarget[];
  /** Only these operations (`PutCommand`, `TransactWriteCommand`, `charge`, `send`, …) fail. @default all */
  operations?: readonly string[];
  /** At most this many faults in all, then every call goes through (a blip, for a focused test). @default no limit */
  limit?: number;
  /**
   * The share of the SDK clients' faults met by the whole call rather than by one attempt: as if every retry the SDK
   * makes had failed the same way, so Billow's own handling (503 with Retry-After, its retries, compensations) meets
   * them. The rest fail one attempt, which the SDK retries. @default 0
   */
  callShare?: number;
  /**
   * The kinds met by whole calls. A whole call `lost` (written, then every attempt's answer lost) is re-done by a client
   * retry after the 5xx, which Billow's writes are not all proof against. @default kinds
   */
  callKinds?: readonly FaultKind[];
}

/** Where an SDK client's fault is met: by one attempt (retried by the SDK), or by the call (after the SDK's retries). */
export type FaultLayer = 'attempt' | 'call';

/** What the layer did: calls seen and faults injected, per target and kind. */
export interface FaultReport {
  rate: number;
  seed: number;
  calls: Record<FaultTarget, number>;
  injected: Record<FaultTarget, Record<FaultKind, number>>;
  /** All faults injected, by kind. */
  byKind: Record<FaultKind, number>;
  total: number;
  /** Of the SDK clients' faults, those met by the whole call (`callShare`), not retried by the SDK. */
  wholeCalls: number;
}

interface FaultPlan {
  settings: Required<FaultSettings>;
  streams: Map<FaultTarget, () => number>;
  calls: Record<FaultTarget, number>;
  injected: Record<FaultTarget, Record<FaultKind, number>>;
  total: number;
  wholeCalls: number;
}

/**
 * Process-wide, not module-scoped: a synthesised bundle loaded into the local stack's process has its own copy of this
 * module and must see the plan the test started (as functions/adapters/workflow/local-registry.ts does).
 */
const PLAN = Symbol.for('billow.faults');
const ENV_READ = Symbol.for('billow.faults.envRead');
const registry = globalThis as typeof globalThis & { [PLAN]?: FaultPlan; [ENV_READ]?: boolean };

/** mulberry32: small, fast, and good enough to pick which call fails. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const zeroKinds = (): Record<FaultKind, number> => Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;

/** Turns the layer on for this process (replacing any plan), with fresh counters. */
export function startFaults(settings: FaultSettings): void {
  if (!(settings.rate >= 0 && settings.rate <= 1)) throw new Error(`The fault rate must be between 0 and 1, not ${settings.rate}`);
  if (!Number.isSafeInteger(settings.seed)) throw new Error(`The fault seed must be a whole number, not ${settings.seed}`);
  const full: Required<FaultSettings> = {
    kinds: FAULT_KINDS,
    targets: FAULT_TARGETS,
    operations: [],
    limit: Number.POSITIVE_INFINITY,
    callShare: 0,
    callKinds: settings.kinds ?? FAULT_KINDS,
    ...settings,
  };
  if (!(full.callShare >= 0 && full.callShare <= 1)) throw new Error(`The call share must be between 0 and 1, not ${full.callShare}`);
  if (full.kinds.length === 0) throw new Error('At least one fault kind must be injected');
  registry[PLAN] = {
    settings: full,
    // One stream per target: a target's decisions do not shift when another target is called more or less often.
    streams: new Map(FAULT_TARGETS.map((target, i) => [target, seededRandom(settings.seed * 31 + i + 1)])),
    calls: Object.fromEntries(FAULT_TARGETS.map((t) => [t, 0])) as Record<FaultTarget, number>,
    injected: Object.fromEntries(FAULT_TARGETS.map((t) => [t, zeroKinds()])) as Record<FaultTarget, Record<FaultKind, number>>,
    total: 0,
    wholeCalls: 0,
  };
}

/** Turns the layer off; the counters of the plan that ran stay readable through the report returned. */
export function stopFaults(): FaultReport | undefined {
  const report = faultReport();
  registry[PLAN] = undefined;
  // Off means off: the environment is not read again to turn it back on.
  registry[ENV_READ] = true;
  return report;
}

/**
 * The settings `BILLOW_FAULT_RATE`, `BILLOW_FAULT_SEED` (default: the clock) and `BILLOW_FAULT_CALL_SHARE` (default 0)
 * ask for, or undefined when the rate is unset or 0.
 */
export function faultSettingsFromEnv(env: Record<string, string | undefined> = process.env): FaultSettings | undefined {
  const rateText = env.BILLOW_FAULT_RATE;
  if (rateText === undefined || rateText === '') return undefined;
  const rate = Number(rateText);
  if (!(rate >= 0 && rate <= 1)) throw new Error(`BILLOW_FAULT_RATE must be a number from 0 to 1, not "${rateText}"`);
  if (rate === 0) return undefined;
  const seedText = env.BILLOW_FAULT_SEED;
  const seed = seedText === undefined || seedText === '' ? Date.now() % 2 ** 31 : Number(seedText);
  if (!Number.isSafeInteger(seed)) throw new Error(`BILLOW_FAULT_SEED must be a whole number, not "${seedText}"`);
  const shareText = env.BILLOW_FAULT_CALL_SHARE;
  if (shareText === undefined || shareText === '') return { rate, seed };
  const callShare = Number(shareText);
  if (!(callShare >= 0 && callShare <= 1)) throw new Error(`BILLOW_FAULT_CALL_SHARE must be a number from 0 to 1, not "${shareText}"`);
  return { rate, seed, callShare };
}

function activePlan(): FaultPlan | undefined {
  const plan = registry[PLAN];
  if (plan || registry[ENV_READ]) return plan;
  registry[ENV_READ] = true;
  const settings = faultSettingsFromEnv();
  if (!settings) return undefined;
  startFaults(settings);
  // Said once, so a run that misbehaves can be replayed with the same seed.
  console.warn(
    `Fault injection is ON: rate ${settings.rate}, seed ${settings.seed}, call share ${settings.callShare ?? 0} (BILLOW_FAULT_RATE, BILLOW_FAULT_SEED, BILLOW_FAULT_CALL_SHARE)`,
  );
  return registry[PLAN];
}

/**
 * Whether the next call to `target` fails, and how. Counts the call and the fault. Undefined: the call goes through
 * (always, while the layer is off).
 */
export function drawFault(target: FaultTarget, operation: string, layer: FaultLayer = 'call'): FaultKind | undefined {
  const plan = activePlan();
  if (!plan?.settings.targets.includes(target)) return undefined;
  const { operations, limit, callShare } = plan.settings;
  if (operations.length > 0 && !operations.includes(operation)) return undefined;
  // The ports have one layer; an SDK client's rate is split between its calls and its attempts.
  const isSdk = target !== 'gateway' && target !== 'mailer';
  const rate = isSdk ? plan.settings.rate * (layer === 'call' ? callShare : 1 - callShare) : plan.settings.rate;
  if (isSdk && layer === 'call' && callShare === 0) return undefined;
  if (!isSdk || layer === 'attempt') plan.calls[target]++;
  const random = plan.streams.get(target) as () => number;
  if (random() >= rate || plan.total >= limit) return undefined;
  plan.total++;
  if (isSdk && layer === 'call') plan.wholeCalls++;
  const kinds = isSdk && layer === 'call' ? plan.settings.callKinds : plan.settings.kinds;
  const kind = kinds[Math.floor(random() * kinds.length)] as FaultKind;
  plan.injected[target][kind]++;
  return kind;
}

/** Calls seen and faults injected since the layer was turned on; undefined while it is off. */
export function faultReport(): FaultReport | undefined {
  const plan = registry[PLAN];
  if (!plan) return undefined;
  const byKind = zeroKinds();
  for (const target of FAULT_TARGETS) for (const kind of FAULT_KINDS) byKind[kind] += plan.injected[target][kind];
  return {
    rate: plan.settings.rate,
    seed: plan.settings.seed,
    calls: { ...plan.calls },
    injected: Object.fromEntries(FAULT_TARGETS.map((t) => [t, { ...plan.injected[t] }])) as FaultReport['injected'],
    byKind,
    total: Object.values(byKind).reduce((a, b) => a + b, 0),
    wholeCalls: plan.wholeCalls,
  };
}

/** Marks the errors the layer makes, so logs (and tests) tell them from real ones. */
export const INJECTED = 'injected by functions/faults';

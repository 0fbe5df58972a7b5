import { UnavailableError } from '../../functions/domain/errors.js';
import { db } from '../../functions/store/dynamo.js';

/**
 * A process killed at a chosen point, for the crash-and-replay tests: the `nth` DynamoDB command matching a
 * predicate is where the worker dies — `before` it reaches DynamoDB (the write never happened), or `after` it (the
 * write happened, the answer never came back). From that moment every command of the process fails, the identity
 * stand-in's included (it is on the same client), as nothing a dead worker does can reach the table, until
 * `revive()` stands for the fresh invocation the queue or Step Functions starts. Deterministic: the same code path
 * dies at the same command every time.
 */
export interface KillSwitch {
  /** Dies at the `nth` (1-based) command for which `when` holds, from now on. */
  arm(when: (call: DynamoCommand) => boolean, options: { nth?: number; point: 'before' | 'after' }): void;
  /** Dies now (at a point that is not a DynamoDB command: right after a gateway charge or a mail handed over). */
  killNow(): void;
  /** Whether the process has died since it was last revived. */
  readonly killed: boolean;
  /** How many times it has died. */
  readonly kills: number;
  /** A fresh process: every command goes through again (and the switch is disarmed). */
  revive(): void;
  /** Takes the middleware off the client. */
  remove(): void;
}

export interface DynamoCommand {
  /** DynamoDB's own name, e.g. `TransactWriteItemsCommand`, `UpdateItemCommand`. */
  command: string;
  /** The command's input as JSON, to match on an entity, an expression or a key. */
  text: string;
}

const NAME = 'billowTestKillSwitch';

/** What the store sees once the worker is dead: the database out of reach. */
const dead = () => new UnavailableError('The worker was killed (test/support/kill-switch.ts).', 5);

export function installKillSwitch(): KillSwitch {
  let armed: { when: (call: DynamoCommand) => boolean; nth: number; point: 'before' | 'after'; seen: number } | undefined;
  let killed = false;
  let kills = 0;
  const die = () => {
    killed = true;
    kills++;
    armed = undefined;
  };
  db().middlewareStack.add(
    (next, context) => async (args) => {
      if (killed) throw dead();
      if (!armed) return next(args);
      const command = String((context as { commandName?: string }).commandName ?? 'unknown');
      const call = { command, text: JSON.stringify(args.input) };
      if (!armed.when(call) || ++armed.seen < armed.nth) return next(args);
      const { point } = armed;
      // Taken at once: a command sent meanwhile by the worker's other rows is not a second death.
      armed = undefined;
      if (point === 'before') {
        die();
        throw dead();
      }
      // The command runs; whatever it answered (a success, a failed condition) is lost with the process.
      await next(args).catch(() => undefined);
      die();
      throw dead();
    },
    // Outside the SDK's retries and the store's fault translation: one logical call, failing as an outage does.
    { step: 'initialize', priority: 'high', name: NAME },
  );
  return {
    arm: (when, { nth = 1, point }) => {
      armed = { when, nth, point, seen: 0 };
    },
    killNow: die,
    get killed() {
      return killed;
    },
    get kills() {
      return kills;
    },
    revive: () => {
      killed = false;
      armed = undefined;
    },
    remove: () => {
      db().middlewareStack.remove(NAME);
    },
  };
}

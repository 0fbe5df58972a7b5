import { ConcurrentChangeError, ConflictError } from '../domain/errors.js';

/**
 * Retries a read-plan-commit step when a concurrent change made its conditions fail. Each round of a burst lets one
 * writer through, so the attempts must outnumber the writers a burst can hold; full-jitter backoff (capped at
 * 100 ms) spreads them out.
 */
export async function withRetries<T>(step: () => Promise<T>, attempts = 60): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (!(error instanceof ConcurrentChangeError) || attempt >= attempts) throw error;
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 5 * 2 ** attempt)));
    }
  }
}

/** Each round of a burst lets at least one writer through; as many attempts as `withRetries` outlasts any burst a company makes. */
const UNCONDITIONAL_ATTEMPTS = 60;

function isLostRace(error: unknown): boolean {
  return error instanceof ConcurrentChangeError || (error instanceof ConflictError && error.code === 'stale_version');
}

/**
 * Runs a read-change-save step (a PATCH) as the contract asks. With an expected version (`If-Match`) it runs once and
 * a stale version is the caller's 409. Without one the change is not conditional: when another change landed between
 * the read and the save, the step reads again and re-applies, so it never fails for that reason.
 */
export async function applyChange<T>(expectedVersion: number | undefined, step: () => Promise<T>): Promise<T> {
  if (expectedVersion !== undefined) return step();
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (!isLostRace(error) || attempt >= UNCONDITIONAL_ATTEMPTS) throw error;
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 5 * 2 ** attempt)));
    }
  }
}

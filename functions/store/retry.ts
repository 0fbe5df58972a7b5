import { ConcurrentChangeError, ConflictError } from '../domain/errors.js';

/**
 * Runs `step` again while `shouldRetry` accepts its error, at most `attempts` times in all, with full-jitter backoff
 * capped at 100 ms between attempts. The one backoff loop behind every retry in the store.
 */
export async function retryWhile<T>(step: () => Promise<T>, shouldRetry: (error: unknown) => boolean, attempts: number): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (attempt >= attempts || !shouldRetry(error)) throw error;
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 5 * 2 ** attempt)));
    }
  }
}

/**
 * Retries a read-plan-commit step when a concurrent change made its conditions fail. Each round of a burst lets one
 * writer through, so the attempts must outnumber the writers a burst can hold; full-jitter backoff (capped at
 * 100 ms) spreads them out.
 */
export function withRetries<T>(step: () => Promise<T>, attempts = 60): Promise<T> {
  return retryWhile(step, (error) => error instanceof ConcurrentChangeError, attempts);
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
export function applyChange<T>(expectedVersion: number | undefined, step: () => Promise<T>): Promise<T> {
  if (expectedVersion !== undefined) return step();
  return retryWhile(step, isLostRace, UNCONDITIONAL_ATTEMPTS);
}

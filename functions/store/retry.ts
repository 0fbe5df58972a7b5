import { ConcurrentChangeError } from '../domain/errors.js';

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

import { describe, expect, it } from 'vitest';
import { ConcurrentChangeError, ConflictError, NotFoundError } from '../../functions/domain/errors.js';
import { applyChange, retryWhile } from '../../functions/store/retry.js';

const stale = () => new ConflictError('The object changed.', { code: 'stale_version' });

/** A step that loses `losses` races (throwing `error`) before it succeeds. */
function losingStep(losses: number, error: () => Error) {
  let calls = 0;
  const step = async () => {
    calls++;
    if (calls <= losses) throw error();
    return 'saved';
  };
  return { step, calls: () => calls };
}

describe('applyChange', () => {
  it('without an expected version, reruns the step after stale versions and concurrent changes until it is saved', async () => {
    const afterStale = losingStep(3, stale);
    await expect(applyChange(undefined, afterStale.step)).resolves.toBe('saved');
    expect(afterStale.calls()).toBe(4);
    const afterRace = losingStep(2, () => new ConcurrentChangeError());
    await expect(applyChange(undefined, afterRace.step)).resolves.toBe('saved');
    expect(afterRace.calls()).toBe(3);
  });

  it('with an expected version, runs the step once and a stale version reaches the caller', async () => {
    const once = losingStep(1, stale);
    await expect(applyChange(3, once.step)).rejects.toMatchObject({ code: 'stale_version' });
    expect(once.calls()).toBe(1);
  });

  it('any other error, a duplicate included, is not retried', async () => {
    for (const error of [() => new NotFoundError('No such client.'), () => new ConflictError('Taken.', { code: 'duplicate_email', field: 'email' })]) {
      const step = losingStep(1, error);
      await expect(applyChange(undefined, step.step)).rejects.toBeInstanceOf(error().constructor);
      expect(step.calls()).toBe(1);
    }
  });
});

describe('retryWhile', () => {
  it('reruns the step while the predicate accepts its error, and stops at the attempt limit with the last error', async () => {
    const recovers = losingStep(2, () => new ConcurrentChangeError());
    await expect(retryWhile(recovers.step, (e) => e instanceof ConcurrentChangeError, 3)).resolves.toBe('saved');
    expect(recovers.calls()).toBe(3);
    const exhausted = losingStep(5, () => new ConcurrentChangeError());
    await expect(retryWhile(exhausted.step, (e) => e instanceof ConcurrentChangeError, 3)).rejects.toBeInstanceOf(ConcurrentChangeError);
    expect(exhausted.calls()).toBe(3);
    const refused = losingStep(1, () => new NotFoundError('No such client.'));
    await expect(retryWhile(refused.step, (e) => e instanceof ConcurrentChangeError, 3)).rejects.toBeInstanceOf(NotFoundError);
    expect(refused.calls()).toBe(1);
  });
});

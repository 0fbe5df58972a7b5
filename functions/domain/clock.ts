/**
 * The moment the system takes as "now" for business dates and timestamps: an invoice's default date, a company's
 * today, `createdAt`/`updatedAt`, activity times. It is read here rather than from `new Date()` so a test can fix
 * it (a date on either side of midnight in a company's time zone) or step it (entries a second apart, so "newest
 * first" is decided by the data, not by how fast the machine runs). Token expiry and lock timeouts keep the real
 * time: they guard against the world, not against a business calendar.
 */
export type Clock = () => Date;

const systemClock: Clock = () => new Date();
let current: Clock = systemClock;

export function currentTime(): Date {
  return current();
}

/** Makes `clock` the source of `currentTime()` until the returned function puts the previous one back. */
export function setClock(clock: Clock): () => void {
  const previous = current;
  current = clock;
  return () => {
    current = previous;
  };
}

import { NotAuthenticatedError, ThrottledError } from '../domain/errors.js';
import { retryAfterSeconds } from '../domain/login-throttle.js';
import { getServices } from '../services.js';
import { getCompany } from '../store/companies.js';
import { clientStatusForUsername } from '../store/clients.js';
import { clearFailures, loginSubject, readThrottles, recordFailure, sourceSubject } from '../store/login-throttle.js';

export interface TokenRequest {
  /** Absent for operator logins. */
  companyId?: string;
  username: string;
  password: string;
  /** The caller's address, for throttling guesses spread over many logins. */
  sourceIp?: string;
}

/**
 * A bearer token for a login of a company (or an operator). Wrong credentials and an unknown company look the same;
 * an inactive or fraud client is told its account is not active rather than that the password is wrong.
 * Repeated failures shut the login (and, far later, the source address) for a while (domain/login-throttle.ts): while
 * shut, no password is checked at all — the answer is 429 with how long to wait, the same for a right password as a
 * wrong one, so the lock tells a guesser nothing.
 */
export async function issueToken(request: TokenRequest): Promise<{ token: string; expiresIn: number }> {
  const login = loginSubject(request.companyId, request.username);
  const subjects = request.sourceIp ? [login, sourceSubject(request.sourceIp)] : [login];
  const now = Date.now();
  const states = await readThrottles(subjects, now);
  const lockedUntil = Math.max(0, ...[...states.values()].map((s) => s.lockedUntil));
  if (lockedUntil > now) {
    throw new ThrottledError('Too many failed logins; wait before trying again.', retryAfterSeconds(lockedUntil, now));
  }
  const failed = async (error: NotAuthenticatedError): Promise<never> => {
    await Promise.all(subjects.map((subject) => recordFailure(subject, Date.now())));
    throw error;
  };
  const wrong = () => new NotAuthenticatedError('The company, username or password is wrong.');
  if (request.companyId !== undefined && !(await getCompany(request.companyId))) return failed(wrong());
  const issued = await getServices().identity.authenticate(request.companyId, request.username, request.password);
  if (issued) {
    if (states.has(login.PK)) await clearFailures(login);
    return issued;
  }
  // A deactivated client's login is disabled at the provider; say why rather than "wrong password".
  if (request.companyId !== undefined) {
    const status = await clientStatusForUsername(request.companyId, request.username);
    if (status === 'inactive' || status === 'fraud') return failed(new NotAuthenticatedError('This account is not active.'));
  }
  return failed(wrong());
}

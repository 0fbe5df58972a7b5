import { NotAuthenticatedError } from '../domain/errors.js';
import { getServices } from '../services.js';
import { getCompany } from '../store/companies.js';
import { clientStatusForUsername } from '../store/clients.js';

export interface TokenRequest {
  /** Absent for operator logins. */
  companyId?: string;
  username: string;
  password: string;
}

/**
 * A bearer token for a login of a company (or an operator). Wrong credentials and an unknown company look the same;
 * an inactive or fraud client is told its account is not active rather than that the password is wrong.
 */
export async function issueToken(request: TokenRequest): Promise<{ token: string; expiresIn: number }> {
  const wrong = () => new NotAuthenticatedError('The company, username or password is wrong.');
  if (request.companyId !== undefined && !(await getCompany(request.companyId))) throw wrong();
  const issued = await getServices().identity.authenticate(request.companyId, request.username, request.password);
  if (issued) return issued;
  // A deactivated client's login is disabled at the provider; say why rather than "wrong password".
  if (request.companyId !== undefined) {
    const status = await clientStatusForUsername(request.companyId, request.username);
    if (status === 'inactive' || status === 'fraud') throw new NotAuthenticatedError('This account is not active.');
  }
  throw wrong();
}

import { newCompany, type Company } from '../domain/company.js';
import { newDefaultGroup, type Group } from '../domain/group.js';
import { newId } from '../domain/ids.js';
import type { LoginUser } from '../adapters/identity/port.js';
import { getServices } from '../services.js';
import { deleteNewCompany, putNewCompany, saveCompany } from '../store/companies.js';
import { nowIso } from '../store/items.js';

export interface StaffLoginInput {
  username: string;
  email: string;
  password: string;
}

export interface CreateCompanyInput {
  name: string;
  defaultCurrency: string;
  timeZone: string;
  /** The company's first staff login, made at the identity provider. */
  staff: StaffLoginInput;
}

export interface CreatedCompany {
  company: Company;
  defaultGroup: Group;
}

/**
 * Creates a company with its default group (`General`) and its first staff login. The company and the group are
 * written in one transaction; the login is made at the identity provider afterwards (it needs the company's id)
 * and its user id is then recorded on the company. When either of those two steps fails, the creation is undone.
 */
export async function createCompany(input: CreateCompanyInput): Promise<CreatedCompany> {
  const now = nowIso();
  const defaultGroup = newDefaultGroup(newId('grp'), now);
  const company = newCompany(
    { id: newId('co'), name: input.name, defaultCurrency: input.defaultCurrency, timeZone: input.timeZone, defaultGroupId: defaultGroup.id },
    now,
  );
  await putNewCompany(company, defaultGroup);
  let staff: LoginUser | undefined;
  try {
    staff = await getServices().identity.createUser({
      username: input.staff.username,
      password: input.staff.password,
      email: input.staff.email,
      role: 'staff',
      companyId: company.id,
    });
    // The login's id is bookkeeping, not a change anyone made: the version stays where it is.
    const withStaff: Company = { ...company, staffUserId: staff.userId };
    await saveCompany(company, withStaff);
    return { company: withStaff, defaultGroup };
  } catch (error) {
    await undoCompanyCreation(company, defaultGroup, staff);
    throw error;
  }
}

/**
 * Compensation of `createCompany` once its first step (company + default group) is written: a company nobody can
 * sign in to is of no use and could never be reached to be cleaned up through the API, so the company item and
 * its default group are deleted and the operator's retry starts from nothing. A login already made at the identity
 * provider for it is deleted as well, so no login points at a company that does not exist; if that delete fails
 * the login is left behind (it opens nothing: its company is gone) rather than hiding the failure being undone.
 */
async function undoCompanyCreation(company: Company, defaultGroup: Group, staff: LoginUser | undefined): Promise<void> {
  if (staff)
    await getServices()
      .identity.deleteUser(company.id, staff.username)
      .catch(() => undefined);
  await deleteNewCompany(company.id, defaultGroup.id);
}

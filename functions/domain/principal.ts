/** Who is acting: read from a verified token by the HTTP layer, or a system actor for scheduled work. */
export type Role = 'operator' | 'staff' | 'client';

export interface Principal {
  role: Role;
  userId: string;
  username: string;
  /** Absent for operators. */
  companyId?: string;
  /** Set for client tokens only. */
  clientId?: string;
}

export interface CompanyPrincipal extends Principal {
  companyId: string;
}

/** The company of a principal on a company route (the HTTP pipeline admits only principals of a company there). */
export const companyOf = (p: Principal | null) => (p as CompanyPrincipal).companyId;

import type { Workflow } from '../../functions/adapters/workflow/port.js';
import { newCompany, type Company } from '../../functions/domain/company.js';
import { newDefaultGroup } from '../../functions/domain/group.js';
import { newId } from '../../functions/domain/ids.js';
import { putNewCompany } from '../../functions/store/companies.js';

/** A Step Functions stand-in that records each execution started and, as Step Functions does, refuses a name again. */
export function recordingWorkflow(): { workflow: Workflow; names: Set<string>; starts: string[] } {
  const names = new Set<string>();
  const starts: string[] = [];
  const workflow: Workflow = {
    start: async (name) => {
      if (names.has(name)) return 'already_started';
      names.add(name);
      starts.push(name);
      return 'started';
    },
  };
  return { workflow, names, starts };
}

/** A company in `timeZone` with its default group, as create-company writes them (no staff login). */
export async function seedCompanyIn(timeZone: string, now: string): Promise<Company> {
  const group = newDefaultGroup(newId('grp'), now);
  const company = newCompany({ id: newId('co'), name: `Co ${timeZone}`, defaultCurrency: 'USD', timeZone, defaultGroupId: group.id }, now);
  await putNewCompany(company, group);
  return company;
}

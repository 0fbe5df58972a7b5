import { describe, expect, it } from 'vitest';
import { groupRenewals, MAX_SERVICES_PER_INVOICE } from '../../../functions/automation/tasks/renew-services.js';

const renewal = (client: string, service: string, periodStart: string, currency = 'USD') => ({
  client: { id: client },
  service: { id: service, pricing: { currency } },
  periodStart,
});

describe('grouping renewals into invoices', () => {
  it('one invoice per period, or per client, currency and renew date together; earliest renew date first', () => {
    const rs = [
      renewal('cl_1', 'svc_a', '2030-02-01'),
      renewal('cl_1', 'svc_b', '2030-02-01'),
      renewal('cl_1', 'svc_c', '2030-02-01', 'EUR'),
      renewal('cl_1', 'svc_a', '2030-01-01'),
      renewal('cl_2', 'svc_d', '2030-02-01'),
    ];
    const ids = (groups: ReturnType<typeof groupRenewals<(typeof rs)[number]>>) => groups.map((g) => g.map((r) => `${r.service.id}@${r.periodStart}`));
    expect(ids(groupRenewals(rs, () => false))).toEqual([
      ['svc_a@2030-01-01'],
      ['svc_a@2030-02-01'],
      ['svc_b@2030-02-01'],
      ['svc_c@2030-02-01'],
      ['svc_d@2030-02-01'],
    ]);
    expect(ids(groupRenewals(rs, () => true))).toEqual([
      ['svc_a@2030-01-01'],
      ['svc_c@2030-02-01'],
      ['svc_a@2030-02-01', 'svc_b@2030-02-01'],
      ['svc_d@2030-02-01'],
    ]);
  });

  it(`puts at most ${MAX_SERVICES_PER_INVOICE} services on one invoice (one DynamoDB transaction)`, () => {
    const many = Array.from({ length: 95 }, (_, i) => renewal('cl_1', `svc_${i}`, '2030-02-01'));
    expect(groupRenewals(many, () => true).map((g) => g.length)).toEqual([40, 40, 15]);
  });
});

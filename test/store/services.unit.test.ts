import { describe, expect, it } from 'vitest';
import type { Service } from '../../functions/domain/service.js';
import { autoSuspendedPk, clientPk, refPk, serviceSk, servicesDuePk } from '../../functions/store/keys.js';
import { serviceFromItem, serviceToItem } from '../../functions/store/services.js';

const service: Service = {
  id: 'svc_1',
  clientId: 'cl_1',
  packageId: 'pkg_1',
  packageName: 'Hosting',
  pricing: { id: 'prc_1', term: 1, period: 'month', price: 1000, setupFee: 500, currency: 'USD' },
  quantity: '3/2',
  status: 'active',
  suspendedBy: null,
  suspendedOn: null,
  canceledOn: null,
  startDate: '2030-01-31',
  periodsInvoiced: 2,
  paidPeriods: ['2030-01-31', '2030-02-28'],
  createdAt: '2030-01-31T00:00:00.000Z',
  updatedAt: '2030-01-31T00:00:00.000Z',
  version: 3,
};

describe('service items', () => {
  it('live in the client partition with a pointer, paid periods as a set, and read back as the same service', () => {
    const item = serviceToItem('co_1', service);
    expect(item).toMatchObject({ PK: clientPk('co_1', 'cl_1'), SK: serviceSk('svc_1'), entity: 'service', refs: [{ PK: refPk('co_1', 'svc_1'), SK: 'REF' }] });
    expect(item.paidPeriods).toEqual(new Set(['2030-01-31', '2030-02-28']));
    expect(serviceFromItem(item)).toEqual(service);
  });

  it('leave out an empty set (DynamoDB has none) and read it back as no paid periods', () => {
    const item = serviceToItem('co_1', { ...service, paidPeriods: [] });
    expect('paidPeriods' in item).toBe(false);
    expect(serviceFromItem(item).paidPeriods).toEqual([]);
  });

  it('are in the renewal index (GSI2) by next period only while they can renew', () => {
    expect(serviceToItem('co_1', service)).toMatchObject({ GSI2PK: servicesDuePk('co_1'), GSI2SK: '2030-03-31#svc_1', nextInvoiceDate: '2030-03-31' });
    for (const s of [
      { ...service, status: 'canceled' as const },
      { ...service, status: 'pending' as const, periodsInvoiced: 0 },
      { ...service, pricing: { ...service.pricing, period: 'onetime' as const } },
    ]) {
      expect(serviceToItem('co_1', s).GSI2PK, s.status).toBeUndefined();
    }
    expect(serviceToItem('co_1', { ...service, status: 'suspended', suspendedBy: 'staff', suspendedOn: '2030-02-01' }).GSI2PK).toBe(servicesDuePk('co_1'));
  });

  it('are in the automation-suspended index (GSI1) only while the automation suspended them', () => {
    const auto = serviceToItem('co_1', { ...service, status: 'suspended', suspendedBy: 'automation', suspendedOn: '2030-02-05' });
    expect(auto).toMatchObject({ GSI1PK: autoSuspendedPk('co_1'), GSI1SK: '2030-02-05#svc_1' });
    expect(serviceToItem('co_1', { ...service, status: 'suspended', suspendedBy: 'staff', suspendedOn: '2030-02-05' }).GSI1PK).toBeUndefined();
    expect(serviceToItem('co_1', service).GSI1PK).toBeUndefined();
  });
});

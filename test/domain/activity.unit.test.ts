import { describe, expect, it } from 'vitest';
import { actorOf } from '../../functions/domain/activity.js';

describe('actorOf', () => {
  it('is Billow itself when nobody asked (the automation, an import)', () => {
    expect(actorOf(null)).toEqual({ type: 'system', id: 'billow' });
  });

  it("is the staff user by user id, and a client by its client id (not its login's)", () => {
    expect(actorOf({ role: 'staff', userId: 'usr_1', username: 'admin', companyId: 'co_1' })).toEqual({ type: 'staff', id: 'usr_1' });
    expect(actorOf({ role: 'client', userId: 'usr_2', username: 'ada', companyId: 'co_1', clientId: 'cl_1' })).toEqual({ type: 'client', id: 'cl_1' });
  });
});

import { companyOf } from '../domain/principal.js';
import { clientListRoute } from '../clients/list-route.js';
import { packageView } from '../domain/package.js';
import { serviceView, type StatusAction } from '../domain/service.js';
import { decodeCursor, encodeCursor, listQuery } from '../http/cursor.js';
import { json, route, type AnyRoute } from '../http/route.js';
import { idParam } from '../http/schemas.js';
import { parseIfMatch } from '../store/items.js';
import { addService } from './add-service.js';
import { changeServiceStatus } from './change-service-status.js';
import { createPackage } from './create-package.js';
import { listPackagesPage, readPackage } from './read-packages.js';
import { listClientServices, readService } from './read-services.js';
import { packageListSchema, packageSchema, serviceSchema } from './response-schemas.js';
import { activateServiceBody, addServiceBody, createPackageBody, updatePackageBody } from './schemas.js';
import { updatePackage } from './update-package.js';

const STAFF = ['staff'] as const;
const STAFF_AND_CLIENT = ['staff', 'client'] as const;

const statusRoute = (action: Exclude<StatusAction, 'activate'>, summary: string): AnyRoute =>
  route({
    method: 'POST',
    path: `/v1/services/{id}/${action}`,
    area: 'packages',
    access: STAFF,
    summary,
    tags: ['Services'],
    response: serviceSchema,
    params: idParam,
    successStatus: 200,
    handle: async ({ principal, params }) => {
      const { service } = await changeServiceStatus({ companyId: companyOf(principal), serviceId: params.id, action, by: 'staff' });
      return json(200, serviceView(service));
    },
  });

export const packageRoutes: AnyRoute[] = [
  route({
    method: 'POST',
    path: '/v1/packages',
    area: 'packages',
    access: STAFF,
    summary: 'Create a package with its pricing (term, period, price, setup fee, currency)',
    tags: ['Packages'],
    response: packageSchema,
    body: createPackageBody,
    successStatus: 201,
    handle: async ({ principal, body }) => json(201, packageView(await createPackage({ companyId: companyOf(principal), ...body }))),
  }),
  route({
    method: 'GET',
    path: '/v1/packages',
    area: 'packages',
    access: STAFF,
    summary: "List the company's packages, oldest first",
    tags: ['Packages'],
    response: packageListSchema,
    query: listQuery,
    handle: async ({ principal, query }) => {
      const companyId = companyOf(principal);
      const scope = `${companyId}|packages`;
      const page = await listPackagesPage(companyId, query.limit, await decodeCursor(scope, query.cursor));
      return json(200, { data: page.items.map(packageView), nextCursor: await encodeCursor(scope, page.lastKey) });
    },
  }),
  route({
    method: 'GET',
    path: '/v1/packages/{id}',
    area: 'packages',
    access: STAFF,
    summary: 'Read a package',
    tags: ['Packages'],
    response: packageSchema,
    params: idParam,
    handle: async ({ principal, params }) => json(200, packageView(await readPackage(companyOf(principal), params.id))),
  }),
  route({
    method: 'PATCH',
    path: '/v1/packages/{id}',
    area: 'packages',
    access: STAFF,
    summary: 'Change a package; a new pricing list replaces the old (services keep the pricing they were added with)',
    tags: ['Packages'],
    response: packageSchema,
    params: idParam,
    body: updatePackageBody,
    handle: async ({ principal, params, body, headers }) => {
      const pkg = await updatePackage({ companyId: companyOf(principal), packageId: params.id, expectedVersion: parseIfMatch(headers['if-match']), ...body });
      return json(200, packageView(pkg));
    },
  }),
  route({
    method: 'POST',
    path: '/v1/clients/{id}/services',
    area: 'packages',
    access: STAFF,
    summary: 'Add a service; an active one is invoiced for its first term at once (due on its start date)',
    tags: ['Services'],
    response: serviceSchema,
    params: idParam,
    body: addServiceBody,
    successStatus: 201,
    handle: async ({ principal, params, body }) => {
      const { service } = await addService({ companyId: companyOf(principal), clientId: params.id, ...body });
      return json(201, serviceView(service));
    },
  }),
  clientListRoute({
    path: '/v1/clients/{id}/services',
    area: 'packages',
    access: STAFF_AND_CLIENT,
    summary: "List a client's services, oldest first (a client token: its own)",
    tags: ['Services'],
    itemSchema: serviceSchema,
    read: listClientServices,
    view: serviceView,
  }),
  route({
    method: 'GET',
    path: '/v1/services/{id}',
    area: 'packages',
    access: STAFF_AND_CLIENT,
    summary: 'Read a service (a client token: its own)',
    tags: ['Services'],
    response: serviceSchema,
    params: idParam,
    handle: async ({ principal, params }) => json(200, serviceView(await readService(companyOf(principal), params.id, principal))),
  }),
  statusRoute('suspend', 'Suspend an active service (suspendedBy: staff; the automation never lifts it)'),
  statusRoute('unsuspend', 'Unsuspend a suspended service'),
  statusRoute('cancel', 'Cancel a service: it is never invoiced again'),
  route({
    method: 'POST',
    path: '/v1/services/{id}/activate',
    area: 'packages',
    access: STAFF,
    summary: 'Activate a pending service: its first term is invoiced at once, due on its start date',
    tags: ['Services'],
    response: serviceSchema,
    params: idParam,
    body: activateServiceBody,
    successStatus: 200,
    handle: async ({ principal, params, body }) => {
      const { service } = await changeServiceStatus({ companyId: companyOf(principal), serviceId: params.id, action: 'activate', startDate: body.startDate });
      return json(200, serviceView(service));
    },
  }),
];

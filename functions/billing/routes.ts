import { invoiceRoutes } from './invoices/routes.js';
import { creditRoutes } from './credits/routes.js';
import { paymentAccountRoutes } from './payment-accounts/routes.js';
import { paymentRoutes } from './payments/routes.js';
import { statementRoutes } from './statements/routes.js';

export const billingRoutes = [...invoiceRoutes, ...paymentAccountRoutes, ...paymentRoutes, ...creditRoutes, ...statementRoutes];

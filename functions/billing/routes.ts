import { invoiceRoutes } from './invoices/routes.js';
import { paymentAccountRoutes } from './payment-accounts.js';
import { paymentRoutes } from './payments.js';
import { statementRoutes } from './statements/routes.js';

export const billingRoutes = [...invoiceRoutes, ...paymentAccountRoutes, ...paymentRoutes, ...statementRoutes];

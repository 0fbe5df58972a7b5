import { invoiceRoutes } from './invoices.js';
import { paymentAccountRoutes } from './payment-accounts.js';
import { paymentRoutes } from './payments.js';
import { statementRoutes } from './statements.js';

export const billingRoutes = [...invoiceRoutes, ...paymentAccountRoutes, ...paymentRoutes, ...statementRoutes];

import { sendStatementEmail } from '../../email/notify.js';
import type { Actor } from '../../store/client-records.js';
import { renderStatementDocument } from '../documents.js';
import { buildClientStatement, type StatementInput } from './build-statement.js';

export interface SendStatementInput extends StatementInput {
  /** Who sends it, for the mail log. */
  actor: Actor;
  /** Whether the rules for automatic mail apply (inactive clients, suppressed addresses); off by default. */
  automatic?: boolean;
}

/** Mails the client's statement with its PDF to the billing contacts. */
export async function sendStatement(input: SendStatementInput): Promise<{ mailId: string | null }> {
  const { company, client, statement } = await buildClientStatement(input);
  const pdf = await renderStatementDocument(company, client, statement);
  const mail = await sendStatementEmail(company.id, client, statement, pdf, input.actor, { automatic: input.automatic ?? false });
  return { mailId: mail?.id ?? null };
}

import { describe, expect, it } from 'vitest';
import { renderInvoicePdf, renderStatementPdf, type PdfClient, type PdfCompany, type PdfInvoice, type PdfStatement } from '../../functions/billing/pdf.js';

/** The text pdfkit draws, from the hex strings of every `TJ` operator (WinAnsi: Latin-1 plus € at 0x80); uncompressed only. */
function drawnText(pdf: Buffer): string {
  const source = pdf.toString('latin1');
  let text = '';
  for (const [, array] of source.matchAll(/\[([^\]]*)\]\s*TJ/g)) {
    for (const [, hex] of array.matchAll(/<([0-9a-fA-F]*)>/g)) text += Buffer.from(hex, 'hex').toString('latin1').replace(/\x80/g, '€');
    text += '\n';
  }
  return text;
}

const company: PdfCompany = { name: 'Acme Hosting Ltd', addressLines: ['1 Main Street', 'Springfield'], email: 'billing@acme.test', taxId: 'GB123' };
const client: PdfClient = {
  number: 1042,
  firstName: 'Zoë',
  lastName: 'Müller',
  company: 'Müller GmbH',
  address1: 'Hauptstraße 5',
  city: 'Berlin',
  zip: '10115',
  country: 'DE',
  email: 'zoe@example.test',
};

const invoice: PdfInvoice = {
  number: 1001,
  status: 'open',
  currency: 'USD',
  dateBilled: '2026-03-01',
  dateDue: '2026-03-15',
  lines: [
    { description: 'Web hosting, March', quantity: '1', unitAmount: 1999, amount: 1999, taxable: true, tax: 400 },
    { description: 'Support, 55 minutes', quantity: '55/60', unitAmount: 9000, amount: 8250, taxable: true, tax: 1650 },
    { description: 'Domain renewal', quantity: '1', unitAmount: 1200, amount: 1200, taxable: false, tax: 0 },
  ],
  subtotal: 11449,
  tax: 2050,
  total: 13499,
  paid: 5000,
  due: 8499,
  taxRate: { name: 'VAT', percent: '20' },
};

describe('invoice PDF', () => {
  it('is a PDF carrying the invoice number, lines and formatted totals', async () => {
    const pdf = await renderInvoicePdf({ company, client, invoice }, { compress: false });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const text = drawnText(pdf);
    for (const expected of [
      'Invoice 1001',
      'Acme Hosting Ltd',
      'Müller GmbH',
      'Hauptstraße 5',
      '2026-03-15',
      'Support, 55 minutes',
      '55/60',
      '$82.50',
      '$16.50',
      '$134.99',
      '$84.99',
      'VAT (20%)',
    ]) {
      expect(text.replace(/\n/g, ''), expected).toContain(expected);
    }
  });

  it('compresses by default and still starts with %PDF-', async () => {
    const pdf = await renderInvoicePdf({ company, client, invoice });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.toString('latin1')).toContain('/FlateDecode');
  });

  it('marks drafts and formats in the requested locale, with a code for symbols the font lacks', async () => {
    const draft = await renderInvoicePdf(
      { company, client, invoice: { ...invoice, number: null, status: 'draft', currency: 'EUR' } },
      { compress: false, locale: 'de' },
    );
    const draftText = drawnText(draft).replace(/\n/g, '');
    expect(draftText).toContain('Invoice (draft)');
    expect(draftText).toContain('134,99 €');
    const rupees = await renderInvoicePdf({ company, client, invoice: { ...invoice, currency: 'INR' } }, { compress: false });
    expect(drawnText(rupees).replace(/\n/g, '')).toContain('INR 134.99');
  });

  it('flows a long invoice onto more pages', async () => {
    const lines = Array.from({ length: 120 }, (_, i) => ({
      description: `Item ${i + 1}`,
      quantity: '1',
      unitAmount: 100,
      amount: 100,
      taxable: true,
      tax: 20,
    }));
    const pdf = await renderInvoicePdf({ company, client, invoice: { ...invoice, lines } }, { compress: false });
    expect((pdf.toString('latin1').match(/\/Type \/Page\b/g) ?? []).length).toBeGreaterThan(1);
    expect(drawnText(pdf)).toContain('Item 120');
  });
});

describe('statement PDF', () => {
  const statement: PdfStatement = {
    currency: 'USD',
    from: '2026-02-01',
    to: '2026-03-01',
    openingBalance: 2500,
    lines: [
      { date: '2026-02-03', type: 'invoice', reference: 'Invoice 1001', description: 'Web hosting', amount: 13499, balance: 15999 },
      { date: '2026-02-10', type: 'payment', reference: 'txn_01', description: 'Visa ending 4242', amount: -5000, balance: 10999 },
    ],
    closingBalance: 10999,
  };

  it('shows the period, opening balance, running balances and closing balance', async () => {
    const pdf = await renderStatementPdf({ company, client, statement }, { compress: false });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const text = drawnText(pdf).replace(/\n/g, '');
    for (const expected of ['Statement', '2026-02-01', 'Opening balance', '$25.00', 'Invoice 1001', '$159.99', '-$50.00', 'Closing balance', '$109.99']) {
      expect(text, expected).toContain(expected);
    }
  });
});

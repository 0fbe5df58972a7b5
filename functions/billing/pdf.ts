import PDFDocument from 'pdfkit';
import { formatMoney } from '../domain/money.js';
import type { Invoice, InvoiceLine } from '../domain/invoice.js';
import type { Statement, StatementLine } from '../domain/statement.js';

/** The company whose name heads the document. */
export interface PdfCompany {
  name: string;
  /** Postal address, one line each. */
  addressLines?: string[];
  email?: string;
  phone?: string;
  taxId?: string;
}

/** The client addressed (its profile fields as API.md names them). */
export interface PdfClient {
  number?: number;
  firstName?: string;
  lastName?: string;
  company?: string;
  address1?: string;
  address2?: string;
  city?: string;
  state?: string;
  zip?: string;
  country?: string;
  email?: string;
  taxId?: string;
}

/** A line as the API shows it (its id is not printed). */
export type PdfInvoiceLine = Omit<InvoiceLine, 'id'>;

export type PdfInvoice = Pick<Invoice, 'number' | 'status' | 'currency' | 'dateBilled' | 'dateDue' | 'subtotal' | 'tax' | 'total' | 'paid' | 'due'> & {
  lines: PdfInvoiceLine[];
  /** The rate applied, shown next to the tax total. */
  taxRate?: { name: string; percent: string };
};

export type PdfStatementLine = StatementLine;
export type PdfStatement = Statement;

export interface PdfRenderOptions {
  /** BCP 47 tag for number formatting (the client's or company's language). Default `en`. */
  locale?: string;
  /** Compress page streams (default true); tests turn it off to read the text. */
  compress?: boolean;
}

type Doc = InstanceType<typeof PDFDocument>;

const MARGIN = 50;
const FONT = 'Helvetica';
const BOLD = 'Helvetica-Bold';
const MUTED = '#555555';

/**
 * The standard PDF fonts only encode Windows-1252 (Latin-1 plus € and typographic punctuation). Characters outside
 * it would print as garbage, so they become `?`; locale spaces (no-break, narrow no-break) become plain spaces.
 */
const WIN_ANSI_EXTRAS = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');
const LOCALE_SPACES = /[\u00a0\u202f\u2009]/g;

function printable(text: string): string {
  let out = '';
  for (const char of text.normalize('NFC').replace(LOCALE_SPACES, ' ')) {
    const code = char.codePointAt(0);
    if (code === undefined) throw new Error('A string iterator yielded an empty character.');
    const encodable = char === '\n' || (code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff) || WIN_ANSI_EXTRAS.has(char);
    out += encodable ? char : '?';
  }
  return out;
}

function money(amount: number, currency: string, locale: string): string {
  const withSymbol = formatMoney(amount, currency, locale).replace(LOCALE_SPACES, ' ');
  // A symbol the font cannot draw (₹, ₽, ₩…) is replaced by the ISO code rather than a question mark.
  return printable(withSymbol) === withSymbol ? withSymbol : printable(formatMoney(amount, currency, locale, { currencyDisplay: 'code' }));
}

function collect(doc: Doc): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
}

function clientName(client: PdfClient): string {
  const person = [client.firstName, client.lastName].filter(Boolean).join(' ');
  return person || client.company || '';
}

function clientAddressLines(client: PdfClient): string[] {
  const person = [client.firstName, client.lastName].filter(Boolean).join(' ');
  const cityLine = [client.city, [client.state, client.zip].filter(Boolean).join(' ')].filter(Boolean).join(', ');
  return [
    person,
    client.company,
    client.address1,
    client.address2,
    cityLine,
    client.country,
    client.email,
    client.taxId ? `Tax ID: ${client.taxId}` : undefined,
  ].filter((line): line is string => !!line && line.trim() !== '');
}

/** Company name and address at top left, the document title at top right; returns the y below the header. */
function drawHeader(doc: Doc, company: PdfCompany, title: string): number {
  const width = doc.page.width - 2 * MARGIN;
  doc
    .font(BOLD)
    .fontSize(18)
    .fillColor('black')
    .text(printable(company.name), MARGIN, MARGIN, { width: width * 0.6 });
  doc.font(FONT).fontSize(9).fillColor(MUTED);
  const details = [...(company.addressLines ?? []), company.email, company.phone, company.taxId ? `Tax ID: ${company.taxId}` : undefined].filter(
    (line): line is string => !!line,
  );
  for (const line of details) doc.text(printable(line), { width: width * 0.6 });
  const leftBottom = doc.y;
  doc.font(BOLD).fontSize(22).fillColor('black').text(printable(title), MARGIN, MARGIN, { width, align: 'right' });
  return Math.max(leftBottom, doc.y) + 20;
}

/** Label/value pairs in two aligned columns at `x`; returns the y below them. */
function drawFacts(doc: Doc, facts: [string, string][], x: number, y: number, width: number): number {
  let cursor = y;
  for (const [label, value] of facts) {
    doc
      .font(BOLD)
      .fontSize(10)
      .fillColor('black')
      .text(printable(label), x, cursor, { width: width / 2 });
    doc.font(FONT).text(printable(value), x + width / 2, cursor, { width: width / 2, align: 'right' });
    cursor = doc.y + 2;
  }
  return cursor;
}

function drawAddressBlock(doc: Doc, heading: string, lines: string[], x: number, y: number, width: number): number {
  doc.font(BOLD).fontSize(10).fillColor(MUTED).text(printable(heading), x, y, { width });
  doc.font(FONT).fontSize(10).fillColor('black');
  for (const line of lines) doc.text(printable(line), { width });
  return doc.y;
}

interface Column {
  header: string;
  width: number;
  align: 'left' | 'right';
}

/** A table with a header row repeated on every page; returns the y below the last row. */
function drawTable(doc: Doc, columns: Column[], rows: string[][], startY: number): number {
  const bottom = doc.page.height - MARGIN;
  const padding = 4;
  const drawRow = (cells: string[], y: number, bold: boolean): number => {
    doc
      .font(bold ? BOLD : FONT)
      .fontSize(9)
      .fillColor('black');
    let x = MARGIN;
    let height = 0;
    for (const [index, column] of columns.entries()) {
      const text = printable(cells[index] ?? '');
      height = Math.max(height, doc.heightOfString(text, { width: column.width - padding }));
      doc.text(text, x, y, { width: column.width - padding, align: column.align });
      x += column.width;
    }
    return y + height + padding;
  };
  const rule = (y: number) => {
    doc
      .moveTo(MARGIN, y)
      .lineTo(MARGIN + columns.reduce((sum, c) => sum + c.width, 0), y)
      .lineWidth(0.5)
      .strokeColor('#999999')
      .stroke();
  };
  const drawHeaderRow = (y: number) => {
    const next = drawRow(
      columns.map((c) => c.header),
      y,
      true,
    );
    rule(next - 2);
    return next + 2;
  };

  let y = drawHeaderRow(startY);
  for (const cells of rows) {
    doc.font(FONT).fontSize(9);
    const needed = Math.max(...columns.map((c, i) => doc.heightOfString(printable(cells[i] ?? ''), { width: c.width - padding }))) + padding;
    if (y + needed > bottom) {
      doc.addPage();
      y = drawHeaderRow(MARGIN);
    }
    y = drawRow(cells, y, false);
  }
  rule(y);
  return y + 6;
}

/** Right-aligned totals (label, value); the last `emphasised` rows are bold. Returns the y below. */
function drawTotals(doc: Doc, rows: [string, string, boolean][], y: number): number {
  const right = doc.page.width - MARGIN;
  const labelWidth = 150;
  const valueWidth = 110;
  let cursor = y;
  for (const [label, value, bold] of rows) {
    if (cursor + 16 > doc.page.height - MARGIN) {
      doc.addPage();
      cursor = MARGIN;
    }
    doc
      .font(bold ? BOLD : FONT)
      .fontSize(10)
      .fillColor('black');
    doc.text(printable(label), right - valueWidth - labelWidth, cursor, { width: labelWidth, align: 'right' });
    doc.text(printable(value), right - valueWidth, cursor, { width: valueWidth, align: 'right' });
    cursor = doc.y + 3;
  }
  return cursor;
}

function invoiceTitle(invoice: PdfInvoice): string {
  return invoice.number === null ? 'Invoice (draft)' : `Invoice ${invoice.number}`;
}

/**
 * The invoice as a PDF: company header, the client's address, number and dates, a table of lines (description,
 * quantity, unit price, amount, tax) and the subtotal, tax, total, paid and due, formatted in `options.locale`.
 * @example const pdf = await renderInvoicePdf({ company, client, invoice }); // Buffer starting with %PDF-
 */
export async function renderInvoicePdf(
  input: { company: PdfCompany; client: PdfClient; invoice: PdfInvoice },
  options: PdfRenderOptions = {},
): Promise<Buffer> {
  const { company, client, invoice } = input;
  const locale = options.locale ?? 'en';
  const title = invoiceTitle(invoice);
  const doc = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    compress: options.compress ?? true,
    info: { Title: printable(title), Author: printable(company.name), Subject: printable(`${title} for ${clientName(client)}`) },
  });
  const done = collect(doc);
  const fmt = (amount: number) => money(amount, invoice.currency, locale);
  const contentWidth = doc.page.width - 2 * MARGIN;

  const y = drawHeader(doc, company, invoice.status === 'void' ? `${title} (VOID)` : title);
  const addressBottom = drawAddressBlock(doc, 'Bill to', clientAddressLines(client), MARGIN, y, contentWidth / 2);
  const factsBottom = drawFacts(
    doc,
    [
      ['Invoice number', invoice.number === null ? 'Draft' : String(invoice.number)],
      ...(client.number !== undefined ? ([['Client number', String(client.number)]] as [string, string][]) : []),
      ['Date billed', invoice.dateBilled],
      ['Date due', invoice.dateDue],
      ['Status', invoice.status.charAt(0).toUpperCase() + invoice.status.slice(1)],
      ['Currency', invoice.currency],
    ],
    MARGIN + contentWidth / 2 + 20,
    y,
    contentWidth / 2 - 20,
  );

  const tableBottom = drawTable(
    doc,
    [
      { header: 'Description', width: 195, align: 'left' },
      { header: 'Quantity', width: 60, align: 'right' },
      { header: 'Unit price', width: 85, align: 'right' },
      { header: 'Amount', width: 85, align: 'right' },
      { header: 'Tax', width: 70, align: 'right' },
    ],
    invoice.lines.map((line) => [line.description, line.quantity, fmt(line.unitAmount), fmt(line.amount), line.taxable ? fmt(line.tax) : '-']),
    Math.max(addressBottom, factsBottom) + 20,
  );

  const taxLabel = invoice.taxRate ? `${invoice.taxRate.name} (${invoice.taxRate.percent}%)` : 'Tax';
  drawTotals(
    doc,
    [
      ['Subtotal', fmt(invoice.subtotal), false],
      [taxLabel, fmt(invoice.tax), false],
      ['Total', fmt(invoice.total), true],
      ['Paid', fmt(invoice.paid), false],
      ['Amount due', fmt(invoice.due), true],
    ],
    tableBottom + 4,
  );

  doc.end();
  return done;
}

/** Appended to the description of a statement line whose money moved through the simulated gateway. */
export const TEST_MODE_MARK = '(test)';

const LINE_TYPES: Record<PdfStatementLine['type'], string> = { invoice: 'Invoice', payment: 'Payment', refund: 'Refund', void: 'Void', credit: 'Credit' };

/**
 * The client statement as a PDF: company header, the client's address, the period, the opening balance, every
 * line with its running balance, and the closing balance (what the client owes; negative is in the client's favour).
 */
export async function renderStatementPdf(
  input: { company: PdfCompany; client: PdfClient; statement: PdfStatement },
  options: PdfRenderOptions = {},
): Promise<Buffer> {
  const { company, client, statement } = input;
  const locale = options.locale ?? 'en';
  const title = 'Statement';
  const doc = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    compress: options.compress ?? true,
    info: {
      Title: printable(`${title} ${statement.from} to ${statement.to}`),
      Author: printable(company.name),
      Subject: printable(`${title} for ${clientName(client)}`),
    },
  });
  const done = collect(doc);
  const fmt = (amount: number) => money(amount, statement.currency, locale);
  const contentWidth = doc.page.width - 2 * MARGIN;

  const y = drawHeader(doc, company, title);
  const addressBottom = drawAddressBlock(doc, 'Account', clientAddressLines(client), MARGIN, y, contentWidth / 2);
  const factsBottom = drawFacts(
    doc,
    [
      ...(client.number !== undefined ? ([['Client number', String(client.number)]] as [string, string][]) : []),
      ['From', statement.from],
      ['To', statement.to],
      ['Currency', statement.currency],
      ['Opening balance', fmt(statement.openingBalance)],
      ['Closing balance', fmt(statement.closingBalance)],
    ],
    MARGIN + contentWidth / 2 + 20,
    y,
    contentWidth / 2 - 20,
  );

  const rows = [
    [statement.from, '', '', 'Opening balance', '', fmt(statement.openingBalance)],
    // A transaction's line whose money was not real (the simulated gateway) says so.
    ...statement.lines.map((line) => [
      line.date,
      LINE_TYPES[line.type] ?? line.type,
      line.reference,
      line.livemode === false ? `${line.description} ${TEST_MODE_MARK}` : line.description,
      fmt(line.amount),
      fmt(line.balance),
    ]),
  ];
  const tableBottom = drawTable(
    doc,
    [
      { header: 'Date', width: 62, align: 'left' },
      { header: 'Type', width: 50, align: 'left' },
      { header: 'Reference', width: 85, align: 'left' },
      { header: 'Description', width: 138, align: 'left' },
      { header: 'Amount', width: 80, align: 'right' },
      { header: 'Balance', width: 80, align: 'right' },
    ],
    rows,
    Math.max(addressBottom, factsBottom) + 20,
  );
  drawTotals(doc, [['Closing balance', fmt(statement.closingBalance), true]], tableBottom + 4);

  doc.end();
  return done;
}

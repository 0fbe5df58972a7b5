/**
 * What the Lambda bundles have in place of fontkit (`BUNDLE_OPTIONS.alias` in `lib/function.ts`). pdfkit calls fontkit
 * only to embed a font file; Billow's documents use PDF's standard fonts (`pdf.ts`: Helvetica and Helvetica-Bold),
 * which pdfkit sets from their metrics alone. fontkit, with the Brotli dictionary it decodes WOFF2 files with, is
 * about 700 KB: most of the PDF renderer, in every bundle that renders documents, parsed at every cold start.
 */
export function create(): never {
  throw new Error('This bundle renders PDFs with the standard fonts only: embedding a font file needs fontkit (lib/function.ts aliases it away).');
}

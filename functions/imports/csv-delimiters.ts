/**
 * The delimiters an import file may use (`parse-csv.ts` sniffs among them). Apart from the reader so that the imports
 * API, whose request schema names them, does not load the reader's decoder (iconv-lite and its code-page tables).
 */
export const DELIMITERS = [',', ';', '\t', '|'] as const;
export type Delimiter = (typeof DELIMITERS)[number];

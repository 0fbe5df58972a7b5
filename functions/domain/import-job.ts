import type { FileColumns, MappingInput, SystemField } from './import-mapping.js';

/**
 * A client import (contract, "Imports"): one CSV file read into clients, as it is recorded
 * (store/imports.ts) and shown (`GET /v1/imports/{id}`). Pure.
 */

export const IMPORT_STATUSES = ['awaiting_upload', 'queued', 'running', 'completed', 'failed'] as const;
export type ImportStatus = (typeof IMPORT_STATUSES)[number];

export const UNIQUE_FIELDS = ['email', 'number'] as const;
export type ImportUniqueField = (typeof UNIQUE_FIELDS)[number];

/** How the import arrived: created through the API (a presigned upload), or a file dropped into the bucket. */
export type ImportSource = 'api' | 'drop';

export interface ImportOptions {
  /** Sniffed from the first line when absent. */
  delimiter?: ',' | ';' | '\t' | '|';
  firstRowIsHeader: boolean;
  /** Header names or 0-based indexes; absent → header auto-mapping. */
  mapping?: MappingInput;
  updateExisting: boolean;
  uniqueBy: ImportUniqueField;
  dryRun: boolean;
}

/** What an import is not told: a header row, new clients only, unique by email, a real run (a dropped file gets all of them). */
export const DEFAULT_IMPORT_OPTIONS: ImportOptions = { firstRowIsHeader: true, updateExisting: false, uniqueBy: 'email', dryRun: false };

/** The options of an import: what was given, the defaults for the rest. */
export function importOptions(given: Partial<ImportOptions>): ImportOptions {
  const options: ImportOptions = { ...DEFAULT_IMPORT_OPTIONS };
  for (const [key, value] of Object.entries(given)) if (value !== undefined) Object.assign(options, { [key]: value });
  return options;
}

/** What the first worker learnt from the file, which every chunk worker reads it with. */
export interface ImportPlan {
  delimiter: ',' | ';' | '\t' | '|';
  encoding: 'utf-8' | 'windows-1252';
  columns: FileColumns;
  /** The 0-based column of each mapped field. */
  mapping: Partial<Record<SystemField, number>>;
  chunkCount: number;
}

export interface ImportCounts {
  created: number;
  updated: number;
  skipped: number;
  failed: number;
}

export interface ImportJob extends ImportCounts {
  id: string;
  companyId: string;
  filename: string;
  /** The object key in the imports bucket. */
  objectKey: string;
  source: ImportSource;
  status: ImportStatus;
  options: ImportOptions;
  /** Data rows (not the header); null until the file has been read. */
  totalRows: number | null;
  processedRows: number;
  unmappedColumns: string[];
  plan: ImportPlan | null;
  finishedChunks: number;
  /** Why a failed import failed (the mapping matched no required field, the file could not be read). */
  error: string | null;
  /** The error report (`reports/<company>/<import>/errors.csv`), once the import has completed with rejected rows. */
  errorReportKey: string | null;
  /** When the file arrived; null while awaiting the upload. */
  startedAt: string | null;
  finishedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** The outcome of one data row, recorded once (its marker) whatever redelivery or resumption runs it again. */
export const ROW_OUTCOMES = ['created', 'updated', 'skipped', 'failed'] as const;
export type RowOutcome = (typeof ROW_OUTCOMES)[number];

export const NO_COUNTS: ImportCounts = { created: 0, updated: 0, skipped: 0, failed: 0 };

/** Object keys of the imports bucket (the fixed protocol between the API, the bucket and the worker). */
export const uploadKey = (companyId: string, importId: string, filename: string) => `imports/${companyId}/${importId}/${filename}`;
export const errorReportKey = (companyId: string, importId: string) => `reports/${companyId}/${importId}/errors.csv`;

/**
 * What an object key under `imports/` is: an API upload (`imports/<company>/<import>/<filename>`), a file dropped
 * by ops (`imports/<company>/<name>.csv`, no import segment), or neither (ignored).
 */
export type ImportObject =
  | { kind: 'upload'; companyId: string; importId: string; filename: string }
  | { kind: 'drop'; companyId: string; filename: string }
  | undefined;

export function parseImportKey(key: string): ImportObject {
  const parts = key.split('/');
  if (parts[0] !== 'imports' || parts.length < 3 || !parts[1]) return undefined;
  const companyId = parts[1];
  const filename = parts[parts.length - 1];
  if (!filename) return undefined;
  if (parts.length === 4 && /^imp_[0-9A-Z]+$/.test(parts[2])) return { kind: 'upload', companyId, importId: parts[2], filename };
  // Ops drop `imports/<company>/<anything>.csv`; other objects (a folder marker, a stray file) are not imports.
  return /\.csv$/i.test(filename) ? { kind: 'drop', companyId, filename } : undefined;
}

/** A file name as the upload key carries it: one path segment, no control characters. */
export function safeFilename(filename: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  const cleaned = filename.replace(/[\u0000-\u001f\u007f/\\]/g, '_').trim();
  return cleaned.slice(0, 200) || 'import.csv';
}

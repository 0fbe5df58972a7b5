import { errorReportKey } from '../domain/import-job.js';
import { getServices } from '../services.js';
import { completeImport, getImport } from '../store/imports.js';
import { nowIso } from '../store/items.js';
import { rejectedRowsCsv } from './import-errors.js';

/**
 * Completes an import once all its chunks have finished (the job counts finished chunks atomically; whichever
 * chunk worker sees the count reach the plan's completes it): the CSV of rejected rows is written to
 * `reports/<company>/<import>/errors.csv` when any row was rejected, then the job is `completed` with `finishedAt`.
 * Two workers completing at once write the same report and one wins the status change.
 */
export async function finishImportIfDone(companyId: string, importId: string): Promise<boolean> {
  const job = await getImport(companyId, importId);
  if (!job?.plan || (job.status !== 'queued' && job.status !== 'running')) return false;
  if (job.finishedChunks < job.plan.chunkCount) return false;
  let reportKey: string | null = null;
  if (job.failed + job.skipped > 0) {
    reportKey = errorReportKey(companyId, importId);
    let text = '';
    for await (const piece of rejectedRowsCsv(job)) text += piece;
    await getServices().importFiles.put(reportKey, Buffer.from(text, 'utf8'), 'text/csv; charset=utf-8');
  }
  return completeImport(companyId, importId, reportKey, nowIso());
}

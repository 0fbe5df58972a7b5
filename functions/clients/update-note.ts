import { applyNotePatch, type Note, type NoteInput } from '../domain/note.js';
import { replaceNote, requireNote } from '../store/client-records.js';
import { assertVersion, nowIso } from '../store/items.js';
import { applyChange } from '../store/retry.js';

export interface UpdateNoteInput {
  companyId: string;
  clientId: string;
  noteId: string;
  /** The version the caller last read; the change is refused when the note has moved on since. */
  expectedVersion?: number;
  patch: Partial<NoteInput>;
}

export function updateNote(input: UpdateNoteInput): Promise<Note> {
  return applyChange(input.expectedVersion, () => updateNoteOnce(input));
}

async function updateNoteOnce(input: UpdateNoteInput): Promise<Note> {
  const current = await requireNote(input.companyId, input.clientId, input.noteId);
  assertVersion(current, input.expectedVersion);
  const next = applyNotePatch(current, input.patch, nowIso());
  await replaceNote(input.companyId, current, next);
  return next;
}

import { newId } from '../domain/ids.js';
import { newNote, type Note, type NoteInput } from '../domain/note.js';
import { putNewNote } from '../store/client-records.js';
import { requireClient } from '../store/clients.js';
import { nowIso } from '../store/items.js';

export interface AddNoteInput {
  companyId: string;
  clientId: string;
  /** The staff user writing it. */
  authorId: string;
  note: NoteInput;
  /** A derived id (the automation's note for one event), so writing it twice is refused; default: a new id. */
  noteId?: string;
}

export async function addNote(input: AddNoteInput): Promise<Note> {
  await requireClient(input.companyId, input.clientId);
  const note = newNote(input.noteId ?? newId('note'), input.clientId, input.authorId, input.note, nowIso());
  await putNewNote(input.companyId, note);
  return note;
}

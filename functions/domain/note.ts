/** A staff note on a client; sticky notes show at the top of the client's profile, newest first. */
export interface Note {
  id: string;
  clientId: string;
  summary: string;
  details: string | null;
  sticky: boolean;
  /** The staff user who wrote it. */
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export interface NoteInput {
  summary: string;
  details?: string | null;
  sticky?: boolean;
}

export function newNote(id: string, clientId: string, createdBy: string, input: NoteInput, now: string): Note {
  return {
    id,
    clientId,
    summary: input.summary,
    details: input.details ?? null,
    sticky: input.sticky ?? false,
    createdBy,
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
}

/** A note change: keys not given are kept, `details: null` clears the details, `sticky: false` unsticks it. */
export function applyNotePatch(current: Note, patch: Partial<NoteInput>, now: string): Note {
  return {
    ...current,
    summary: patch.summary ?? current.summary,
    details: patch.details !== undefined ? patch.details : current.details,
    sticky: patch.sticky ?? current.sticky,
    updatedAt: now,
    version: current.version + 1,
  };
}

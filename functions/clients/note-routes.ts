import { companyOf } from '../domain/principal.js';
import * as z from 'zod';
import type { Note } from '../domain/note.js';
import { json, noContent, route } from '../http/route.js';
import { idParam } from '../http/schemas.js';
import { deleteNote, listNotes, requireNote } from '../store/client-records.js';
import { parseIfMatch } from '../store/items.js';
import { addNote } from './add-note.js';
import { clientListRoute } from './list-route.js';
import { noteBody } from './schemas.js';
import { updateNote } from './update-note.js';
import { noteSchema } from './response-schemas.js';

const STAFF = ['staff'] as const;
const noteParams = z.object({ id: z.string().min(1).max(100), noteId: z.string().min(1).max(100) });

const view = ({ id, clientId, summary, details, sticky, createdBy, createdAt, updatedAt, version }: Note) => ({
  id,
  clientId,
  summary,
  details,
  sticky,
  createdBy,
  createdAt,
  updatedAt,
  version,
});

export const noteRoutes = [
  route({
    method: 'POST',
    path: '/v1/clients/{id}/notes',
    area: 'clients',
    access: STAFF,
    summary: 'Add a note; sticky notes show at the top of the profile',
    tags: ['Notes'],
    response: noteSchema,
    params: idParam,
    body: noteBody,
    successStatus: 201,
    handle: async ({ principal, params, body }) => {
      if (!principal) throw new Error('Adding a note needs a staff principal.');
      return json(201, view(await addNote({ companyId: companyOf(principal), clientId: params.id, authorId: principal.userId, note: body })));
    },
  }),
  clientListRoute<Note>({
    path: '/v1/clients/{id}/notes',
    area: 'clients',
    access: STAFF,
    summary: "List a client's notes, newest first",
    tags: ['Notes'],
    itemSchema: noteSchema,
    read: listNotes,
    view,
  }),
  route({
    method: 'GET',
    path: '/v1/clients/{id}/notes/{noteId}',
    area: 'clients',
    access: STAFF,
    summary: 'Read a note',
    tags: ['Notes'],
    response: noteSchema,
    params: noteParams,
    handle: async ({ principal, params }) => json(200, view(await requireNote(companyOf(principal), params.id, params.noteId))),
  }),
  route({
    method: 'PATCH',
    path: '/v1/clients/{id}/notes/{noteId}',
    area: 'clients',
    access: STAFF,
    summary: 'Change a note; {sticky:false} unsticks it',
    tags: ['Notes'],
    response: noteSchema,
    params: noteParams,
    body: noteBody.partial(),
    handle: async ({ principal, params, body, headers }) => {
      const note = await updateNote({
        companyId: companyOf(principal),
        clientId: params.id,
        noteId: params.noteId,
        expectedVersion: parseIfMatch(headers['if-match']),
        patch: body,
      });
      return json(200, view(note));
    },
  }),
  route({
    method: 'DELETE',
    path: '/v1/clients/{id}/notes/{noteId}',
    area: 'clients',
    access: STAFF,
    summary: 'Delete a note',
    tags: ['Notes'],
    params: noteParams,
    successStatus: 204,
    handle: async ({ principal, params }) => {
      await deleteNote(companyOf(principal), params.id, params.noteId);
      return noContent();
    },
  }),
];

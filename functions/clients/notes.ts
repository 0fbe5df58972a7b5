import { clientListRoute } from './list-route.js';
import { z } from 'zod';
import { newId } from '../domain/ids.js';
import { json, noContent, route, type CompanyPrincipal, type Principal } from '../http/route.js';
import { idParam } from '../http/schemas.js';
import { deleteRecord, putRecord, replaceRecord, requireRecord } from '../store/client-records.js';
import { requireClient } from '../store/clients.js';
import { assertVersion, nowIso, parseIfMatch } from '../store/items.js';
import { NOTE_SK_PREFIX, noteSk, profileViewStickyNote } from '../store/keys.js';
import { noteBody } from './schemas.js';

export interface Note {
  id: string;
  clientId: string;
  summary: string;
  details: string | null;
  sticky: boolean;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  version: number;
}

const STAFF = ['staff'] as const;
const companyOf = (p: Principal | null) => (p as CompanyPrincipal).companyId;
const noteParams = z.object({ id: z.string().min(1).max(100), noteId: z.string().min(1).max(100) });

/** A sticky note joins the profile view (LSI1), newest first; an unstuck one leaves it. */
const profileIndex = (note: Note) => (note.sticky ? { LSI1SK: profileViewStickyNote(note.createdAt, note.id) } : {});
const view = ({ id, clientId, summary, details, sticky, createdBy, createdAt, updatedAt, version }: Note) => ({ id, clientId, summary, details, sticky, createdBy, createdAt, updatedAt, version });

export const noteRoutes = [
  route({
    method: 'POST',
    path: '/v1/clients/{id}/notes',
    area: 'clients',
    access: STAFF,
    summary: 'Add a note; sticky notes show at the top of the profile',
    tags: ['Notes'],
    params: idParam,
    body: noteBody,
    successStatus: 201,
    handle: async ({ principal, params, body }) => {
      const companyId = companyOf(principal);
      await requireClient(companyId, params.id);
      const now = nowIso();
      const note: Note = { id: newId('note'), clientId: params.id, summary: body.summary, details: body.details ?? null, sticky: body.sticky ?? false, createdBy: principal!.userId, createdAt: now, updatedAt: now, version: 1 };
      await putRecord({ companyId, clientId: params.id, sk: noteSk(note.id) }, { entity: 'note', ...note }, profileIndex(note));
      return json(201, view(note));
    },
  }),
  clientListRoute<Note>({
    path: '/v1/clients/{id}/notes',
    area: 'clients',
    access: STAFF,
    summary: "List a client's notes, newest first",
    tags: ['Notes'],
    prefix: NOTE_SK_PREFIX,
    newestFirst: true,
    view,
  }),
  route({
    method: 'GET',
    path: '/v1/clients/{id}/notes/{noteId}',
    area: 'clients',
    access: STAFF,
    summary: 'Read a note',
    tags: ['Notes'],
    params: noteParams,
    handle: async ({ principal, params }) => json(200, view(await requireRecord<Note>({ companyId: companyOf(principal), clientId: params.id, sk: noteSk(params.noteId) }, 'note'))),
  }),
  route({
    method: 'PATCH',
    path: '/v1/clients/{id}/notes/{noteId}',
    area: 'clients',
    access: STAFF,
    summary: 'Change a note; {sticky:false} unsticks it',
    tags: ['Notes'],
    params: noteParams,
    body: noteBody.partial(),
    handle: async ({ principal, params, body, headers }) => {
      const key = { companyId: companyOf(principal), clientId: params.id, sk: noteSk(params.noteId) };
      const current = await requireRecord<Note>(key, 'note');
      assertVersion(current, parseIfMatch(headers['if-match']));
      const next: Note = {
        ...current,
        summary: body.summary ?? current.summary,
        details: body.details !== undefined ? body.details : current.details,
        sticky: body.sticky ?? current.sticky,
        updatedAt: nowIso(),
        version: current.version + 1,
      };
      await replaceRecord(key, current.version, { entity: 'note', ...next }, 'note', profileIndex(next));
      return json(200, view(next));
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
      await deleteRecord({ companyId: companyOf(principal), clientId: params.id, sk: noteSk(params.noteId) }, 'note');
      return noContent();
    },
  }),
];

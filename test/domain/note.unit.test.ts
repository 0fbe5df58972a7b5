import { describe, expect, it } from 'vitest';
import { applyNotePatch, newNote } from '../../functions/domain/note.js';

const CREATED = '2030-01-01T00:00:00.000Z';
const CHANGED = '2030-01-02T00:00:00.000Z';

describe('newNote', () => {
  it('is not sticky and has no details unless given, version 1, written by its author', () => {
    expect(newNote('note_1', 'cl_1', 'usr_1', { summary: 'Called' }, CREATED)).toEqual({
      id: 'note_1',
      clientId: 'cl_1',
      summary: 'Called',
      details: null,
      sticky: false,
      createdBy: 'usr_1',
      createdAt: CREATED,
      updatedAt: CREATED,
      version: 1,
    });
  });
});

describe('applyNotePatch', () => {
  const current = newNote('note_1', 'cl_1', 'usr_1', { summary: 'Called', details: 'About the invoice', sticky: true }, CREATED);

  it('keeps what is not given and moves the version and updatedAt', () => {
    expect(applyNotePatch(current, {}, CHANGED)).toEqual({ ...current, version: 2, updatedAt: CHANGED });
  });

  it('clears the details with null and unsticks with sticky: false', () => {
    expect(applyNotePatch(current, { details: null, sticky: false }, CHANGED)).toMatchObject({ summary: 'Called', details: null, sticky: false });
  });

  it('never changes who wrote it or when', () => {
    expect(applyNotePatch(current, { summary: 'Emailed' }, CHANGED)).toMatchObject({ summary: 'Emailed', createdBy: 'usr_1', createdAt: CREATED });
  });
});

import { ConflictError } from './errors.js';
import { mergeOverrides, resolveSettings, type GroupOverrides, type GroupOverridesPatch, type GroupSettings } from './settings.js';
import type { Versioned } from './versioned.js';

export interface Group extends Versioned {
  id: string;
  name: string;
  description: string | null;
  color: string | null;
  isDefault: boolean;
  settings: GroupOverrides;
}

/** Every company has one default group, made with it; clients without a group, or of a deleted one, are in it. */
export const DEFAULT_GROUP_NAME = 'General';

export function newDefaultGroup(id: string, now: string): Group {
  return { id, name: DEFAULT_GROUP_NAME, description: null, color: null, isDefault: true, settings: {}, version: 1, createdAt: now, updatedAt: now };
}

export interface GroupInput {
  name: string;
  description?: string | null;
  color?: string | null;
  settings?: GroupOverridesPatch;
}

/** A new group overrides only what its settings name (a `null` there overrides nothing). */
export function newGroup(id: string, input: GroupInput, now: string): Group {
  return {
    id,
    name: input.name,
    description: input.description ?? null,
    color: input.color ?? null,
    isDefault: false,
    settings: mergeOverrides({}, input.settings ?? {}),
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
}

/** A group change: keys not given are kept, `null` clears a description or colour; settings merge as `mergeOverrides` says. */
export function applyGroupPatch(current: Group, patch: Partial<GroupInput>, now: string): Group {
  return {
    ...current,
    name: patch.name ?? current.name,
    description: patch.description !== undefined ? patch.description : current.description,
    color: patch.color !== undefined ? patch.color : current.color,
    settings: patch.settings ? mergeOverrides(current.settings, patch.settings) : current.settings,
    version: current.version + 1,
    updatedAt: now,
  };
}

/** The default group is where the clients of a deleted group go, so it cannot itself be deleted. */
export function assertDeletable(group: Group): void {
  if (group.isDefault) throw new ConflictError('The default client group cannot be deleted.', { code: 'default_group' });
}

export function groupView(group: Group, companySettings: GroupSettings) {
  return {
    id: group.id,
    name: group.name,
    description: group.description,
    color: group.color,
    isDefault: group.isDefault,
    settings: group.settings,
    effectiveSettings: resolveSettings(companySettings, group.settings),
    createdAt: group.createdAt,
    updatedAt: group.updatedAt,
    version: group.version,
  };
}

import type { Versioned } from '../store/items.js';
import { resolveSettings, type GroupOverrides, type GroupSettings } from './settings.js';

export interface Group extends Versioned {
  id: string;
  name: string;
  description: string | null;
  color: string | null;
  isDefault: boolean;
  settings: GroupOverrides;
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

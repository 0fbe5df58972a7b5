/** Every stored object carries these; `version` starts at 1 and grows by one on each change. */
export interface Versioned {
  version: number;
  createdAt: string;
  updatedAt: string;
}

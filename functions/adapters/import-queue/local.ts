import type { ImportQueue } from './port.js';

/**
 * Process-wide, not module-scoped: a synthesised bundle loaded into the local stack's process has its own copy of
 * this module and must see the queue the stack registered.
 */
const REGISTRY = Symbol.for('billow.localImportQueue');
const registry = globalThis as typeof globalThis & { [REGISTRY]?: ImportQueue };

/** The local stack (or a test) registers the in-process queue that hands messages to the import worker. */
export function useLocalImportQueue(queue: ImportQueue | undefined): void {
  registry[REGISTRY] = queue;
}

/** The registered local queue; without one (no local stack in this process) sending is a fault. */
export function localImportQueue(): ImportQueue {
  return {
    send: (body) => {
      const current = registry[REGISTRY];
      if (!current) throw new Error('No local import queue is registered: the local stack registers one when it starts.');
      return current.send(body);
    },
  };
}

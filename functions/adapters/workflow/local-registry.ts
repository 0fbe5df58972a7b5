import type { Workflow } from './port.js';

/*
 * The registry apart from the local state machine (local.ts): a bundle selects `localWorkflow()` when it runs locally,
 * and this module keeps aws-local-stepfunctions (and its ASL validator, JSONata, JSONPath) out of every bundle.
 */

/**
 * Process-wide, not module-scoped: a synthesised bundle loaded into the local stack's process (the bundle tests) has
 * its own copy of this module and must see the workflow the stack registered.
 */
const REGISTRY = Symbol.for('billow.localWorkflow');
const registry = globalThis as typeof globalThis & { [REGISTRY]?: Workflow };

/** The local stack registers the workflow it built from the synthesised definition (bin/local/automation.ts). */
export function useLocalWorkflow(workflow: Workflow | undefined): void {
  registry[REGISTRY] = workflow;
}

/** The registered local workflow; without one (no local stack in this process) starting a run is a fault. */
export function localWorkflow(): Workflow {
  return {
    start: (name, input) => {
      const current = registry[REGISTRY];
      if (!current) throw new Error('No local workflow is registered: the local stack (bin/local/stack.ts) registers one when it starts.');
      return current.start(name, input);
    },
  };
}

import { describe, expect, it, vi } from 'vitest';
import { API_AREAS } from '../../functions/http/route.js';
import { AREA_ACCESS } from '../../lib/api.js';
import { buildTemplate } from '../support/cdk.js';

/** Each area's deployed environment builds the adapters the area uses (tokens stand in as placeholder strings). */
describe('deployed environment vs functions/services.ts', () => {
  const { stack, template } = buildTemplate({ gateway: 'stripe' });
  for (const area of API_AREAS) {
    it(area, async () => {
      const fnId = stack.getLogicalId(stack.api.functions[area].node.defaultChild as never);
      const vars = template.toJSON().Resources[fnId].Properties.Environment.Variables as Record<string, unknown>;
      const env = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, typeof v === 'string' ? v : `placeholder-${k}`]));
      vi.resetModules();
      const saved = { ...process.env };
      for (const key of Object.keys(process.env)) if (key.startsWith('BILLOW_')) delete process.env[key];
      Object.assign(process.env, env);
      try {
        const { getServices } = await import('../../functions/services.js');
        const services = getServices();
        for (const capability of AREA_ACCESS[area].uses) expect(() => services[capability], `${area} ${capability}`).not.toThrow();
        // Read before any call (a transaction records it), so the lazily loaded Stripe gateway knows it without loading.
        if (AREA_ACCESS[area].uses.includes('gateway')) expect(services.gateway.livemode, area).toBe(true);
      } finally {
        process.env = saved;
      }
    });
  }
});

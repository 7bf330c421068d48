import { describe, expect, it } from 'vitest';
import { API_METHODS, API_ROUTES, type ApiRouteName } from '../../shared/http/api-routes.js';
import { addBatchRoutes } from '../batch/batch-route.js';
import { addInfoRoutes } from '../routes/info-routes.js';
import { addPredictRoutes } from '../routes/predict-routes.js';
import { addTfStatusRoutes } from '../routes/tf-status-routes.js';
import type { WorkerContext } from '../worker-context.js';
import { Router } from './router.js';

describe('the API route table', () => {
  it('names every path a worker serves, so the gateway and the worker agree on what each path is', () => {
    const r = new Router();
    const w = {} as WorkerContext; // registration only: handlers are not called
    addInfoRoutes(r, w);
    addPredictRoutes(r, w);
    addBatchRoutes(r, w);
    addTfStatusRoutes(r, w);
    for (const name of Object.keys(API_ROUTES) as ApiRouteName[]) {
      // The monitor route is added by monitoring (worker/monitor/attach-monitoring.ts) when it is on.
      if (name === 'monitor') continue;
      for (const pattern of API_ROUTES[name]) {
        const path = pattern.replace('{model}', 'm').replace('{version}', '1');
        expect(() => r.find(API_METHODS[name], path), `${API_METHODS[name]} ${path}`).not.toThrow();
      }
    }
  });
});

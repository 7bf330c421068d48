// The public API's paths (docs/api.md), named once: the worker registers its handlers for them and
// the gateway registers its own (forward, coalesce, fan out, answer itself) for the same patterns,
// so the two cannot disagree on what a path means. Patterns use shared/http/router.ts syntax.
export const API_ROUTES = {
  infer: ['/v2/models/{model}/infer', '/v2/models/{model}/versions/{version}/infer'],
  predict: ['/v1/models/{model}:predict', '/v1/models/{model}/versions/{version}:predict'],
  batch: ['/v1/models/{model}:batch', '/v1/models/{model}/versions/{version}:batch'],
  monitor: ['/v2/models/{model}/versions/{version}/monitor'],
  modelMetadata: ['/v2/models/{model}', '/v2/models/{model}/versions/{version}'],
  modelReady: ['/v2/models/{model}/ready', '/v2/models/{model}/versions/{version}/ready'],
  tfStatus: ['/v1/models/{model}', '/v1/models/{model}/versions/{version}'],
  tfMetadata: ['/v1/models/{model}/metadata', '/v1/models/{model}/versions/{version}/metadata'],
  models: ['/v2/models'],
  server: ['/v2'],
  live: ['/v2/health/live'],
  ready: ['/v2/health/ready'],
  metrics: ['/metrics'],
} as const;

export type ApiRouteName = keyof typeof API_ROUTES;

/** A `:batch` request: its body is streamed, so no body limit applies to it (docs/api.md). */
export function isBatchUrl(url: string | undefined): boolean {
  if (url === undefined) return false;
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  return path.startsWith('/v1/models/') && path.endsWith(':batch');
}

/** The method each API route is served for. */
export const API_METHODS: Record<ApiRouteName, 'GET' | 'POST'> = {
  infer: 'POST',
  predict: 'POST',
  batch: 'POST',
  monitor: 'GET',
  modelMetadata: 'GET',
  modelReady: 'GET',
  tfStatus: 'GET',
  tfMetadata: 'GET',
  models: 'GET',
  server: 'GET',
  live: 'GET',
  ready: 'GET',
  metrics: 'GET',
};

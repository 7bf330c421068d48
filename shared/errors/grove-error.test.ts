import { describe, expect, it } from 'vitest';
import { UnauthorizedError, UnknownFeatureError, UnsupportedMediaTypeError } from './grove-error.js';

describe('error messages a client can act on', () => {
  it('an unknown-feature list is capped and names the model features', () => {
    const many = Array.from({ length: 4000 }, (_, i) => `${i}.25`);
    const model = Array.from({ length: 30 }, (_, i) => `f${i}`);
    const e = new UnknownFeatureError(many, model);
    expect(e.features).toHaveLength(4000);
    expect(e.message.length).toBeLessThan(600);
    expect(e.message).toContain(
      'unknown feature name(s): 0.25, 1.25, 2.25, 3.25, 4.25, 5.25, 6.25, 7.25, 8.25, 9.25 (and 3990 more)',
    );
    expect(e.message).toContain(
      "the model's 30 features are f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19 (and 10 more)",
    );
    expect(e.message).toContain('curl -d @file strips its newlines');
    const long = new UnknownFeatureError(['x'.repeat(500)]);
    expect(long.message).toBe(`unknown feature name(s): ${'x'.repeat(40)}...`);
    expect(new UnknownFeatureError(['zip'], ['f0', 'f1']).message).toBe(
      "unknown feature name(s): zip; the model's 2 features are f0, f1",
    );
  });

  it('a 415 lists what is accepted; a 401 says where the token comes from', () => {
    expect(new UnsupportedMediaTypeError('text/plain', ['text/csv', 'application/x-ndjson']).message).toBe(
      "unsupported content type 'text/plain'; send one of text/csv, application/x-ndjson",
    );
    expect(new UnauthorizedError().message).toContain('GROVE_ADMIN_TOKEN');
  });
});

// Renders the error catalogue as docs/errors.md, so the documentation is the catalogue itself.
// `npm run docs:errors` writes it; catalogue.test.ts fails when the committed file differs.
import { ERROR_CATALOGUE } from './catalogue.js';

export function renderErrorsDoc(): string {
  const rows = Object.entries(ERROR_CATALOGUE).map(
    ([code, spec]) => `| \`${code}\` | ${spec.status} | ${spec.meaning} |`,
  );
  return [
    '# Error codes',
    '',
    'Every error grove answers over HTTP is JSON, `{"error": "<message>", "code": "GROVE_ERR_..."}`: `error` is',
    "a human-readable string (as the Open Inference Protocol and TF Serving's REST API define it), `code` is",
    'stable and safe to match on. The same codes name load failures in `GET /v2/models/{m}` and in the logs,',
    'and the CLI prints them with its messages. This table is generated from `shared/errors/catalogue.ts`',
    '(`npm run docs:errors`); do not edit it by hand.',
    '',
    '| code | HTTP status | meaning |',
    '|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

// `npm run docs:errors`: writes docs/errors.md from the error catalogue.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../runtime-path.js';
import { renderErrorsDoc } from './errors-doc.js';

writeFileSync(join(projectRoot, 'docs', 'errors.md'), renderErrorsDoc());

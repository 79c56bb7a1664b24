import { writeFileSync } from 'node:fs';
import { renderErrorDoc } from '../src/transport/errors-doc.ts';

writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorDoc());
console.log('wrote docs/errors.md');

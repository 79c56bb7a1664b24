import { writeFileSync } from 'node:fs';
import { renderApiDoc } from '../src/operations/docs.ts';
import { buildRegistry } from '../src/operations/index.ts';

writeFileSync(new URL('../docs/api.md', import.meta.url), renderApiDoc(buildRegistry()));
console.log('wrote docs/api.md');

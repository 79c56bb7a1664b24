import { writeFileSync } from 'node:fs';
import { renderSettingsDoc } from '../src/config/docs.ts';

writeFileSync(new URL('../docs/settings.md', import.meta.url), renderSettingsDoc());
console.log('wrote docs/settings.md');

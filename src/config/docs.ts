import { settingsTable, type SettingSpec } from './settings.ts';

function describeDefault(spec: SettingSpec): string {
  if (spec.kind === 'list') return spec.default.length ? `\`${spec.default.join(',')}\`` : '(empty)';
  if (spec.default === undefined) return '(unset)';
  return `\`${String(spec.default)}\``;
}

function describeBounds(spec: SettingSpec): string {
  switch (spec.kind) {
    case 'int': return `${spec.min}..${spec.max}${spec.unit ? ` ${spec.unit}` : ''}`;
    case 'bool': return 'true / false';
    case 'list': return spec.values ? `any of ${spec.values.map((v) => `\`${v}\``).join(', ')}` : `comma-separated: each ${spec.itemText ?? 'a name'}`;
    case 'string': return spec.patternText ?? `at most ${spec.maxLength} characters`;
  }
}

/** docs/settings.md, generated from the settings table. */
export function renderSettingsDoc(): string {
  const rows = Object.values(settingsTable as Record<string, SettingSpec>).map((spec) =>
    `| \`${spec.env}\` | ${describeDefault(spec)} | ${describeBounds(spec)} | ${spec.meaning.replace(/\|/g, '\\|')} |`);
  return [
    '# Settings',
    '',
    'Generated from `src/config/settings.ts` by `npm run docs:settings`; a test checks that this page matches it.',
    'Every setting is an environment variable. Values out of bounds stop start-up with one message naming every such variable;',
    'a `TWOFOLD_*` variable that is not below is warned about at start-up with the nearest real name (a likely typo).',
    '',
    '| variable | default | allowed | meaning |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

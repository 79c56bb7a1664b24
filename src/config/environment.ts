// Reading the settings at start-up (server and CLI): a misspelled TWOFOLD_* name would
// otherwise be ignored silently and its setting keep the default, so every unknown name is
// reported with the nearest real one.

import { loadSettings, settingsTable, type Settings, type SettingSpec } from './settings.ts';

/** Names read outside the settings table (by one command, not by the server). */
export const commandEnvNames = ['TWOFOLD_NEW_SECRET_KEY'] as const;

const PREFIX = 'TWOFOLD_';

export function knownEnvNames(): string[] {
  return [...(Object.values(settingsTable) as SettingSpec[]).map((s) => s.env), ...commandEnvNames];
}

/** Edit distance counting a swap of two neighbours as one edit (the commonest typo after a dropped letter). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

export interface UnknownSetting {
  name: string;
  /** The nearest real name, when it is near enough to be a likely typo. */
  suggestion: string | null;
}

/** Every variable that starts with TWOFOLD_ but is not a setting Twofold reads. */
export function unknownSettings(env: Record<string, string | undefined>): UnknownSetting[] {
  const known = knownEnvNames();
  const knownSet = new Set(known);
  const out: UnknownSetting[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith(PREFIX) || knownSet.has(name)) continue;
    const upper = name.toUpperCase();
    let best: { name: string; distance: number } | null = null;
    for (const candidate of known) {
      const distance = editDistance(upper, candidate);
      if (!best || distance < best.distance) best = { name: candidate, distance };
    }
    // Beyond a third of the part after the prefix, a "suggestion" is a guess, not a typo fix.
    const nearEnough = best !== null && best.distance <= Math.max(2, Math.floor((name.length - PREFIX.length) / 3));
    out.push({ name, suggestion: nearEnough ? best!.name : null });
  }
  return out;
}

export function unknownSettingWarning(u: UnknownSetting): string {
  return u.suggestion
    ? `unknown setting ${u.name} — did you mean ${u.suggestion}?`
    : `unknown setting ${u.name} (not read by Twofold; the settings are listed in docs/settings.md)`;
}

/**
 * The settings for a start-up: warns about each unknown TWOFOLD_* name through `warn`, then
 * reads the table; every bad value is in the one SettingError it throws.
 */
export function settingsFromEnvironment(env: Record<string, string | undefined>, warn: (line: string) => void, overrides: Partial<Settings> = {}): Settings {
  for (const u of unknownSettings(env)) warn(unknownSettingWarning(u));
  return loadSettings(env, overrides);
}

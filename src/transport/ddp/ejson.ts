// The slice of EJSON that DDP clients send and expect: dates as {"$date": ms}, binary as
// {"$binary": base64}, and {"$escape": …} for objects that merely look like those.

const MAX_DEPTH = 64;

export class EjsonDepthError extends Error {}

// Both directions hand back the value itself when nothing in it needs converting, which is
// nearly every DDP frame: a copy of each frame in and each answer out was garbage the
// collector paid for on every method (bench profile of (4)).

export function fromEjson(value: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH) throw new EjsonDepthError('too deeply nested');
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const v = fromEjson(value[i], depth + 1);
      if (v !== value[i]) (out ??= value.slice())[i] = v;
    }
    return out ?? value;
  }
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1) {
    if (keys[0] === '$date' && typeof obj.$date === 'number') return new Date(obj.$date);
    if (keys[0] === '$binary' && typeof obj.$binary === 'string') return Buffer.from(obj.$binary, 'base64');
    if (keys[0] === '$escape' && obj.$escape && typeof obj.$escape === 'object') {
      const inner = obj.$escape as Record<string, unknown>;
      return Object.fromEntries(Object.entries(inner).map(([k, v]) => [k, fromEjson(v, depth + 1)]));
    }
  }
  let out: Record<string, unknown> | null = null;
  for (const k of keys) {
    const v = fromEjson(obj[k], depth + 1);
    if (v !== obj[k]) out ??= { ...obj }, out[k] = v;
  }
  return out ?? obj;
}

const ESCAPED = new Set(['$date', '$binary', '$escape']);

export function toEjson(value: unknown): unknown {
  if (value instanceof Date) return { $date: value.getTime() };
  if (Buffer.isBuffer(value)) return { $binary: value.toString('base64') };
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const v = toEjson(value[i]);
      if (v !== value[i]) (out ??= value.slice())[i] = v;
    }
    return out ?? value;
  }
  if (value === null || typeof value !== 'object') return value;
  // Only plain objects are passed through as they are: JSON.stringify would call another
  // class's toJSON, where a copy takes its own enumerable properties.
  const proto = Object.getPrototypeOf(value);
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  let out: Record<string, unknown> | null = proto === Object.prototype || proto === null ? null : {};
  let count = 0;
  let lastKey = '';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const v = obj[k];
    if (v === undefined) {
      out ??= copyOfFirst(obj, keys, i);
      continue;
    }
    const converted = toEjson(v);
    if (converted !== v) out ??= copyOfFirst(obj, keys, i);
    if (out) out[k] = converted;
    count++;
    lastKey = k;
  }
  if (count === 1 && ESCAPED.has(lastKey)) return { $escape: out ?? obj };
  return out ?? obj;
}

/** The first `n` keys of an object none of whose values (so far) needed converting or dropping. */
function copyOfFirst(obj: Record<string, unknown>, keys: string[], n: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let j = 0; j < n; j++) out[keys[j]!] = obj[keys[j]!];
  return out;
}

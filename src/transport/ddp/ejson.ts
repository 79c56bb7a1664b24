// The slice of EJSON that DDP clients send and expect: dates as {"$date": ms}, binary as
// {"$binary": base64}, and {"$escape": …} for objects that merely look like those.

const MAX_DEPTH = 64;

export class EjsonDepthError extends Error {}

export function fromEjson(value: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH) throw new EjsonDepthError('too deeply nested');
  if (Array.isArray(value)) return value.map((v) => fromEjson(v, depth + 1));
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
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = fromEjson(obj[k], depth + 1);
  return out;
}

export function toEjson(value: unknown): unknown {
  if (value instanceof Date) return { $date: value.getTime() };
  if (Buffer.isBuffer(value)) return { $binary: value.toString('base64') };
  if (Array.isArray(value)) return value.map(toEjson);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toEjson(v);
  const keys = Object.keys(out);
  if (keys.length === 1 && (keys[0] === '$date' || keys[0] === '$binary' || keys[0] === '$escape')) return { $escape: out };
  return out;
}

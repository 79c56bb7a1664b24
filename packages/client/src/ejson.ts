// The part of Meteor's EJSON that Twofold uses: dates as {"$date": ms} both ways (spec §2).

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;

export function toEjson(value: unknown): unknown {
  if (value instanceof Date) return { $date: value.getTime() };
  if (Array.isArray(value)) return value.map(toEjson);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toEjson(v);
    return out;
  }
  return value;
}

export function fromEjson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromEjson);
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === '$date' && typeof value.$date === 'number') return new Date(value.$date);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = fromEjson(v);
    return out;
  }
  return value;
}

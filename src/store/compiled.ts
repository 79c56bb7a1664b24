// Statements of the hot paths (the session lookup, a code check), built and compiled once.
// Building a Kysely query and compiling it to SQL cost as much CPU as SQLite running it
// (bench profile, issue 15 §1): the SQL never changes, only the values bound to it do.
import type { Compilable, CompiledQuery, DialectAdapter, Kysely, QueryResult } from 'kysely';
import type { Database } from './schema.ts';

/** Stands for one bound value while a statement is compiled; it never reaches a database. */
class Slot {
  constructor(readonly name: string) {}
}

/** A statement with named values, compiled on first use and run on a database or a transaction. */
export interface Statement<P, R> {
  run(db: Kysely<Database>, params: P): Promise<QueryResult<R>>;
}

interface Template<R> {
  query: CompiledQuery<R>;
  /** The caller's value for each bound parameter of the SQL, in the SQL's order. */
  names: string[];
}

/**
 * `build` gets a stand-in for each value it reads from `p`; the SQL it makes is compiled once
 * per dialect, and each run binds the caller's values by name, so the order of the SQL's
 * placeholders cannot misbind them. Compiling refuses a statement with any other bound value
 * (one `build` took from elsewhere would be frozen at the first call's value; a constant is
 * written as `sql.lit`) and a caller whose values differ in number from the SQL's.
 * A bound value is always one parameter: a NULL test is part of the SQL, not a value bound to
 * `=`, and a list of varying length (`in`) cannot be bound.
 */
export function statement<P extends Record<string, unknown>, R>(what: string, build: (db: Kysely<Database>, p: P) => Compilable<R>): Statement<P, R> {
  // Keyed by the dialect's adapter, which a transaction shares with its database: a
  // transaction is a new Kysely instance each time, and must still find the compiled SQL.
  const templates = new WeakMap<DialectAdapter, Template<R>>();

  function compile(db: Kysely<Database>, params: P): Template<R> {
    const slots = new Map<string, Slot>();
    const stand = new Proxy({}, {
      get(_, key) {
        if (typeof key !== 'string') return undefined;
        let slot = slots.get(key);
        if (!slot) slots.set(key, (slot = new Slot(key)));
        return slot;
      },
    }) as P;
    const query = build(db, stand).compile();
    const names = query.parameters.map((value) => {
      if (!(value instanceof Slot)) throw new Error(`${what}: a value not taken from the statement's parameters is bound (${typeof value})`);
      return value.name;
    });
    for (const name of slots.keys()) if (!names.includes(name)) throw new Error(`${what}: "${name}" is read but not bound as a parameter`);
    const given = Object.keys(params);
    if (given.length !== slots.size || given.some((k) => !slots.has(k))) {
      throw new Error(`${what}: binds ${[...slots.keys()].join(', ')}; the caller gives ${given.join(', ')}`);
    }
    return { query, names };
  }

  return {
    async run(db, params) {
      const adapter = db.getExecutor().adapter;
      let template = templates.get(adapter);
      if (!template) templates.set(adapter, (template = compile(db, params)));
      const parameters = template.names.map((name) => {
        const value = params[name];
        if (value === undefined) throw new Error(`${what}: no value for "${name}"`);
        return value;
      });
      return db.executeQuery<R>({ ...template.query, parameters });
    },
  };
}

import type { DatabaseSync, SQLInputValue, SQLOutputValue, StatementResultingChanges } from 'node:sqlite';

/**
 * A prepared statement with the parameters and rows its SQL has. node:sqlite types every row as
 * `Record<string, SQLOutputValue>`; these views state each query's shape once, where it is written (a
 * promise about the SQL, not a check at run time). The
 * parameters' type leaves out `undefined`, which node:sqlite refuses to bind, so the compiler catches it.
 */
export interface Statement<Params extends SQLInputValue[], Row> {
  get(...params: Params): Row | undefined;
  all(...params: Params): Row[];
  iterate(...params: Params): IterableIterator<Row>;
  run(...params: Params): StatementResultingChanges;
}

/** Rows as objects keyed by column name (with a null prototype: node:sqlite makes them so). */
export function statement<Params extends SQLInputValue[] = [], Row = never>(db: DatabaseSync, sql: string): Statement<Params, Row> {
  return db.prepare(sql) as unknown as Statement<Params, Row>;
}

/** Rows as arrays in the order of the SELECT's columns: no object, and no key lookups, per row. */
export function arrayStatement<Params extends SQLInputValue[], Row extends readonly SQLOutputValue[]>(db: DatabaseSync, sql: string): Statement<Params, Row> {
  const prepared = db.prepare(sql);
  prepared.setReturnArrays(true);
  return prepared as unknown as Statement<Params, Row>;
}

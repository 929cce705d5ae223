import type { LogRow } from '../eventLog';

/**
 * Rows as they cross between threads: the texts joined into two strings and the numbers in typed arrays.
 * Copying two long strings and moving three buffers costs a fraction of cloning a thousand small
 * objects, which made pages read through the thread nearly twice as slow as reading on the main thread.
 */
export interface PackedRows {
  seqs: Float64Array;
  types: string;
  typeEnds: Uint32Array;
  bodies: string;
  bodyEnds: Uint32Array;
}

/** A stored event as the database answers it with rows as arrays: no object per row. */
export type RawRow = [seq: number, type: string, body: string];

export function packRows(rows: readonly RawRow[]): PackedRows {
  const seqs = new Float64Array(rows.length);
  const typeEnds = new Uint32Array(rows.length);
  const bodyEnds = new Uint32Array(rows.length);
  const types: string[] = [];
  const bodies: string[] = [];
  let typeEnd = 0;
  let bodyEnd = 0;
  rows.forEach(([seq, type, body], index) => {
    seqs[index] = seq;
    types.push(type);
    bodies.push(body);
    typeEnds[index] = typeEnd += type.length;
    bodyEnds[index] = bodyEnd += body.length;
  });
  return { seqs, types: types.join(''), typeEnds, bodies: bodies.join(''), bodyEnds };
}

/** The buffers postMessage can move instead of copying. */
export const transferablesOf = (packed: PackedRows): ArrayBuffer[] =>
  [packed.seqs.buffer, packed.typeEnds.buffer, packed.bodyEnds.buffer] as ArrayBuffer[];

export function unpackRows({ seqs, types, typeEnds, bodies, bodyEnds }: PackedRows): LogRow[] {
  const rows: LogRow[] = new Array<LogRow>(seqs.length);
  let typeStart = 0;
  let bodyStart = 0;
  for (let index = 0; index < seqs.length; index += 1) {
    const typeEnd = typeEnds[index]!;
    const bodyEnd = bodyEnds[index]!;
    rows[index] = { seq: seqs[index]!, type: types.slice(typeStart, typeEnd), body: bodies.slice(bodyStart, bodyEnd) };
    typeStart = typeEnd;
    bodyStart = bodyEnd;
  }
  return rows;
}

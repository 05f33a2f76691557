/**
 * The shape of a schema's records as the lake and the warehouse see them: the columns of the lake
 * object, with their warehouse types (from the schema, never guessed from a first value) and how
 * each value is read from a decoded record.
 */
import type { ColumnType } from "../config/feeds.ts";

export interface ShapeColumn {
  name: string;
  type: ColumnType;
  /** The column's value in a decoded record (already in its lake form). */
  read(decoded: unknown): unknown;
}

export interface Shape {
  columns: ShapeColumn[];
}

/** Column name → type, for the warehouse. */
export function columnTypes(shape: Shape): Record<string, ColumnType> {
  return Object.fromEntries(shape.columns.map((c) => [c.name, c.type]));
}

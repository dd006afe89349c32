/**
 * The built-in operation kinds, registered exactly as a plugin registers its own. Kinds whose
 * behaviour is not written yet use `unimplementedOperation`; each line is replaced by the real
 * definition from `lib/operations/<kind>.ts` as it lands.
 */
import { alterColumnParams } from "../migration/params/alter_column.ts";
import { createConstraintParams } from "../migration/params/create_constraint.ts";
import { createIndexParams } from "../migration/params/create_index.ts";
import { dropColumnParams } from "../migration/params/drop_column.ts";
import { dropConstraintParams } from "../migration/params/drop_constraint.ts";
import { dropIndexParams } from "../migration/params/drop_index.ts";
import { dropMulticolumnConstraintParams } from "../migration/params/drop_multicolumn_constraint.ts";
import { renameConstraintParams } from "../migration/params/rename_constraint.ts";
import { setReplicaIdentityParams } from "../migration/params/set_replica_identity.ts";
import { addColumn } from "./add_column.ts";
import { createTable } from "./create_table.ts";
import { dropTable } from "./drop_table.ts";
import { Registry } from "./registry.ts";
import { renameColumn } from "./rename_column.ts";
import { renameTable } from "./rename_table.ts";
import { rawSql } from "./sql.ts";
import { unimplementedOperation as todo } from "./unimplemented.ts";

/** A fresh registry holding every built-in kind (pgroll's 15), in pgroll's documentation order. */
// deno-fmt-ignore -- one line per kind keeps the list scannable and each replacement a one-line diff
export function builtinRegistry(): Registry {
  const r = new Registry();
  r.register(createTable);
  r.register(renameTable);
  r.register(renameColumn);
  r.register(dropTable);
  r.register(addColumn);
  r.register(todo("drop_column", "Drop a column", dropColumnParams));
  r.register(todo("alter_column", "Change a column: type, constraints, default", alterColumnParams));
  r.register(todo("create_index", "Create an index concurrently", createIndexParams));
  r.register(todo("drop_index", "Drop an index concurrently", dropIndexParams));
  r.register(todo("rename_constraint", "Rename a constraint", renameConstraintParams));
  r.register(todo("drop_multicolumn_constraint", "Drop a constraint", dropMulticolumnConstraintParams));
  r.register(rawSql);
  r.register(todo("create_constraint", "Add a constraint to existing columns", createConstraintParams));
  r.register(todo("drop_constraint", "Drop a one-column constraint (deprecated)", dropConstraintParams));
  r.register(todo("set_replica_identity", "Set replica identity (deprecated)", setReplicaIdentityParams));
  return r;
}

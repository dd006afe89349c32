/**
 * The built-in operation kinds, registered exactly as a plugin registers its own. Kinds whose
 * behaviour is not written yet use `unimplementedOperation`; each line is replaced by the real
 * definition from `lib/operations/<kind>.ts` as it lands.
 */
import { addColumn } from "./add_column.ts";
import { alterColumn } from "./alter_column.ts";
import { createConstraint } from "./create_constraint.ts";
import { createIndex } from "./create_index.ts";
import { dropColumn } from "./drop_column.ts";
import { dropConstraint } from "./drop_constraint.ts";
import { dropIndex } from "./drop_index.ts";
import { dropMulticolumnConstraint } from "./drop_multicolumn_constraint.ts";
import { createTable } from "./create_table.ts";
import { dropTable } from "./drop_table.ts";
import { Registry } from "./registry.ts";
import { renameColumn } from "./rename_column.ts";
import { renameConstraint } from "./rename_constraint.ts";
import { renameTable } from "./rename_table.ts";
import { setReplicaIdentity } from "./set_replica_identity.ts";
import { rawSql } from "./sql.ts";

/** A fresh registry holding every built-in kind (pgroll's 15), in pgroll's documentation order. */
// deno-fmt-ignore -- one line per kind keeps the list scannable and each replacement a one-line diff
export function builtinRegistry(): Registry {
  const r = new Registry();
  r.register(createTable);
  r.register(renameTable);
  r.register(renameColumn);
  r.register(dropTable);
  r.register(addColumn);
  r.register(dropColumn);
  r.register(alterColumn);
  r.register(createIndex);
  r.register(dropIndex);
  r.register(renameConstraint);
  r.register(dropMulticolumnConstraint);
  r.register(rawSql);
  r.register(createConstraint);
  r.register(dropConstraint);
  r.register(setReplicaIdentity);
  return r;
}

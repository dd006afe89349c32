/**
 * pgroll's column operation tests (pkg/migrations op_add_column, op_alter_column, op_change_type,
 * op_set_notnull, op_drop_not_null, op_set_default, op_set_comment, op_set_check, op_set_fk,
 * op_set_unique) replayed through our CLI, one fresh database per case. The cases live as data
 * in tests/pgroll-replay-columns/, one module per pgroll file.
 */
import "./pgroll-replay-columns/op-add-column.ts";
import "./pgroll-replay-columns/op-alter-column.ts";
import "./pgroll-replay-columns/op-change-type.ts";
import "./pgroll-replay-columns/op-set-notnull.ts";
import "./pgroll-replay-columns/op-drop-not-null.ts";
import "./pgroll-replay-columns/op-set-default.ts";
import "./pgroll-replay-columns/op-set-comment.ts";
import "./pgroll-replay-columns/op-set-check.ts";
import "./pgroll-replay-columns/op-set-fk.ts";
import "./pgroll-replay-columns/op-set-unique.ts";

/**
 * Converted operations as a TypeScript migration written with the typed DSL (`createTable`,
 * `addColumn`, `alterColumn(...).type(…)` …), every SQL text as a `sql\`…\`` expression. The
 * module, imported, gives exactly the operations `--json` prints. An operation the builders cannot
 * say exactly (a field they do not cover) is written as `operation("kind", {…})`.
 *
 * Placeholders stay what they are in JSON (`sql\`/* TODO: … *\/ score\``): validate, plan and
 * start refuse them until they are replaced.
 *
 * @module
 */
import { isPlaceholder } from "../operations/placeholders.ts";

type Body = Record<string, any>;

/** The builders and helpers a file uses, for its import line. */
class Imports {
  readonly names = new Set<string>(["defineMigration"]);
  use<T>(name: string, value: T): T {
    this.names.add(name);
    return value;
  }
}

/** The TypeScript migration module for `operations`. */
export function typescriptMigration(operations: readonly Record<string, unknown>[]): string {
  const imports = new Imports();
  const items: string[] = [];
  for (const op of operations) {
    const [kind, body] = Object.entries(op)[0] ?? ["", {}];
    const built = builder(kind, body as Body, imports) ??
      imports.use("operation", `operation(${JSON.stringify(kind)}, ${literal(body, 4)})`);
    const todo = hasPlaceholder(body)
      ? "    // TODO: replace the placeholders below (validate and start refuse them).\n"
      : "";
    items.push(`${todo}    ${built},`);
  }
  const todos = items.some((item) => item.includes("// TODO: replace the placeholders"));
  return [
    `// Converted from SQL by \`pgtandem convert\`.${todos ? " Fill in every TODO." : ""}`,
    `import { ${[...imports.names].sort().join(", ")} } from "pgtandem";`,
    "",
    "export default defineMigration({",
    "  operations: [",
    ...items,
    "  ],",
    "});",
    "",
  ].join("\n");
}

function hasPlaceholder(value: unknown): boolean {
  if (typeof value === "string") return isPlaceholder(value);
  if (Array.isArray(value)) return value.some(hasPlaceholder);
  if (value && typeof value === "object") return Object.values(value).some(hasPlaceholder);
  return false;
}

/** True when `body` has no field outside `fields`. */
function only(body: Body | undefined, fields: readonly string[]): boolean {
  return body !== undefined && Object.keys(body).every((k) => fields.includes(k));
}

const str = (value: unknown): string => JSON.stringify(value);

/** A list of names: `["a", "b"]`. */
const list = (values: unknown): string => `[${(values as unknown[]).map(str).join(", ")}]`;

/** An object key: bare when it is an identifier. */
const key = (k: string): string => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : str(k));

/** `sql\`…\``, the text escaped for a template literal. */
function sqlText(text: string, imports: Imports): string {
  const escaped = text.replaceAll("\\", "\\\\").replaceAll("`", "\\`").replaceAll("${", "\\${");
  return imports.use("sql", `sql\`${escaped}\``);
}

/** `{ a: x, b: y }` from the entries whose value is defined. */
function object(entries: [string, string | undefined][]): string | undefined {
  const kept = entries.filter(([, v]) => v !== undefined);
  if (kept.length === 0) return undefined;
  return `{ ${
    kept.map(([k, v]) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : str(k)}: ${v}`).join(", ")
  } }`;
}

/** Per-column SQL (`{ a: sql\`…\` }`), or undefined when absent. */
function perColumn(value: unknown, imports: Imports): string | undefined {
  if (value === undefined) return undefined;
  const entries = Object.entries(value as Record<string, string>);
  return `{ ${entries.map(([k, v]) => `${key(k)}: ${sqlText(v, imports)}`).join(", ")} }`;
}

function builder(kind: string, body: Body, imports: Imports): string | undefined {
  switch (kind) {
    case "create_table":
      return createTable(body, imports);
    case "add_column":
      return addColumn(body, imports);
    case "alter_column":
      return alterColumn(body, imports);
    case "create_constraint":
      return createConstraint(body, imports);
    case "drop_multicolumn_constraint":
      if (!only(body, ["table", "name", "up", "down"]) || body.down === undefined) return undefined;
      return imports.use(
        "dropMulticolumnConstraint",
        `dropMulticolumnConstraint(${str(body.table)}, ${str(body.name)}, ${
          object([["up", perColumn(body.up, imports)], ["down", perColumn(body.down, imports)]])
        })`,
      );
    case "drop_column": {
      if (!only(body, ["table", "column", "down"])) return undefined;
      const down = body.down === undefined ? undefined : sqlText(body.down, imports);
      const options = object([["down", down]]);
      return imports.use(
        "dropColumn",
        `dropColumn(${str(body.table)}, ${str(body.column)}${options ? `, ${options}` : ""})`,
      );
    }
    case "rename_table":
      if (!only(body, ["from", "to"])) return undefined;
      return imports.use("renameTable", `renameTable(${str(body.from)}, ${str(body.to)})`);
    case "rename_column":
    case "rename_constraint": {
      if (!only(body, ["table", "from", "to"])) return undefined;
      const name = kind === "rename_column" ? "renameColumn" : "renameConstraint";
      return imports.use(name, `${name}(${str(body.table)}, ${str(body.from)}, ${str(body.to)})`);
    }
    case "drop_table":
      if (!only(body, ["name"])) return undefined;
      return imports.use("dropTable", `dropTable(${str(body.name)})`);
    case "drop_index":
      if (!only(body, ["name"])) return undefined;
      return imports.use("dropIndex", `dropIndex(${str(body.name)})`);
    case "create_index":
      return createIndex(body, imports);
    case "sql": {
      if (!only(body, ["up", "down", "onComplete"])) return undefined;
      const options = object([
        ["down", body.down === undefined ? undefined : sqlText(body.down, imports)],
        ["onComplete", body.onComplete === undefined ? undefined : str(body.onComplete)],
      ]);
      return imports.use(
        "rawSql",
        `rawSql(${sqlText(body.up, imports)}${options ? `, ${options}` : ""})`,
      );
    }
    default:
      return undefined;
  }
}

// ── types and columns ────────────────────────────────────────────────────────────────────────

/** Types `t.<name>()` writes exactly as named. */
const PLAIN = new Set([
  "smallint",
  "integer",
  "int",
  "bigint",
  "smallserial",
  "serial",
  "bigserial",
  "real",
  "money",
  "boolean",
  "text",
  "varchar",
  "char",
  "uuid",
  "bytea",
  "date",
  "timetz",
  "timestamptz",
  "interval",
  "json",
  "jsonb",
  "inet",
  "cidr",
  "macaddr",
  "tsvector",
  "xml",
]);

/** The `t` builder that writes exactly `type`; `t.raw("…")` for anything else. */
function typeBuilder(type: string, imports: Imports): string {
  imports.use("t", "");
  if (PLAIN.has(type)) return `t.${type}()`;
  const special: Record<string, string> = {
    "double precision": "t.doublePrecision()",
    "timestamp": "t.timestamp()",
    "time": "t.time()",
    "timestamp with time zone": "t.timestamp({ withTimeZone: true })",
    "time with time zone": "t.time({ withTimeZone: true })",
  };
  if (special[type]) return special[type];
  const sized = /^(varchar|char|timestamptz|timetz)\((\d+)\)$/.exec(type);
  if (sized) return `t.${sized[1]}(${Number(sized[2])})`;
  const exact = /^(numeric|decimal)\((\d+)(?:,(\d+))?\)$/.exec(type);
  if (exact) return `t.${exact[1]}(${exact[2]}${exact[3] === undefined ? "" : `, ${exact[3]}`})`;
  const array = /^(.+)\[\]$/.exec(type);
  if (array && !array[1]!.endsWith("]")) {
    const inner = typeBuilder(array[1]!, imports);
    if (!inner.startsWith("t.raw(")) return `${inner}.array()`;
  }
  return `t.raw(${str(type)})`;
}

const COLUMN_FIELDS = [
  "name",
  "type",
  "pk",
  "unique",
  "nullable",
  "default",
  "comment",
  "check",
  "references",
  "generated",
];

/** A column as `t.<type>()` and its settings; undefined when a field has no builder. */
function columnBuilder(column: Body, imports: Imports): string | undefined {
  if (!only(column, COLUMN_FIELDS)) return undefined;
  let out = typeBuilder(column.type, imports);
  if (column.pk === true) out += ".primaryKey()";
  if (column.unique === true) out += ".unique()";
  if (column.nullable === true) out += ".nullable()";
  if (column.nullable === false) out += ".notNull()";
  if (typeof column.default === "string") out += `.default(${sqlText(column.default, imports)})`;
  if (typeof column.comment === "string") out += `.comment(${str(column.comment)})`;
  if (column.check) {
    if (!only(column.check, ["name", "constraint"])) return undefined;
    out += `.check(${str(column.check.name)}, ${sqlText(column.check.constraint, imports)})`;
  }
  if (column.references) {
    const ref = column.references as Body;
    const fields = ["name", "table", "column", "on_delete", "on_update", "match_type"];
    const extra = ["deferrable", "initially_deferred"];
    if (!only(ref, [...fields, ...extra])) return undefined;
    out += `.references(${str(ref.name)}, ${str(ref.table)}, ${str(ref.column)}${
      optionsArg(foreignKeyOptions(ref))
    })`;
  }
  if (column.generated) {
    const generated = column.generated as Body;
    if (typeof generated.expression === "string") {
      out += `.generatedAs(${sqlText(generated.expression, imports)})`;
    } else if (generated.identity && only(generated, ["identity"])) {
      const identity = generated.identity as Body;
      if (!only(identity, ["user_specified_values", "sequence_options"])) return undefined;
      const options = object([
        [
          "userSpecifiedValues",
          identity.user_specified_values && str(identity.user_specified_values),
        ],
        [
          "sequenceOptions",
          identity.sequence_options && sqlText(identity.sequence_options, imports),
        ],
      ]);
      out += `.identity(${options ?? ""})`;
    } else return undefined;
  }
  return out;
}

function foreignKeyOptions(ref: Body): [string, string | undefined][] {
  return [
    ["onDelete", ref.on_delete && str(ref.on_delete)],
    ["onUpdate", ref.on_update && str(ref.on_update)],
    ["matchType", ref.match_type && str(ref.match_type)],
    ["deferrable", ref.deferrable === undefined ? undefined : str(ref.deferrable)],
    [
      "initiallyDeferred",
      ref.initially_deferred === undefined ? undefined : str(ref.initially_deferred),
    ],
  ];
}

function optionsArg(entries: [string, string | undefined][]): string {
  const options = object(entries);
  return options ? `, ${options}` : "";
}

// ── operations ───────────────────────────────────────────────────────────────────────────────

function createTable(body: Body, imports: Imports): string | undefined {
  if (!only(body, ["name", "columns", "constraints", "comment"])) return undefined;
  const columns: string[] = [];
  for (const column of body.columns as Body[]) {
    // createTable takes an object: JavaScript would move integer-like keys to the front,
    // and `__proto__` would set the object's prototype instead of naming a column.
    if (/^(0|[1-9][0-9]*)$/.test(column.name) || column.name === "__proto__") return undefined;
    const built = columnBuilder(column, imports);
    if (!built) return undefined;
    columns.push(`      ${key(column.name)}: ${built},`);
  }
  let out = `createTable(${str(body.name)}, {\n${columns.join("\n")}\n    })`;
  if (typeof body.comment === "string") out += `.comment(${str(body.comment)})`;
  for (const c of (body.constraints ?? []) as Body[]) {
    const chained = tableConstraint(c, imports);
    if (!chained) return undefined;
    out += `\n      ${chained}`;
  }
  return imports.use("createTable", out);
}

function tableConstraint(c: Body, imports: Imports): string | undefined {
  const name = str(c.name);
  const columns = Array.isArray(c.columns) ? list(c.columns) : "";
  switch (c.type) {
    case "primary_key":
      if (!only(c, ["name", "type", "columns"])) return undefined;
      return `.primaryKey(${name}, ${columns})`;
    case "unique":
      if (!only(c, ["name", "type", "columns", "nulls_not_distinct"])) return undefined;
      return `.unique(${name}, ${columns}${
        optionsArg([["nullsNotDistinct", c.nulls_not_distinct && "true"]])
      })`;
    case "check":
      if (!only(c, ["name", "type", "check", "no_inherit"])) return undefined;
      return `.check(${name}, ${sqlText(c.check, imports)}${
        optionsArg([["noInherit", c.no_inherit && "true"]])
      })`;
    case "foreign_key": {
      if (!only(c, ["name", "type", "columns", "references"])) return undefined;
      const ref = c.references as Body;
      const fields = ["table", "columns", "on_delete", "on_update", "match_type"];
      if (!only(ref, [...fields, "on_delete_set_columns"])) return undefined;
      return `.foreignKey(${name}, ${columns}, ${str(ref.table)}, ${list(ref.columns)}${
        optionsArg([
          ...foreignKeyOptions(ref),
          ["onDeleteSetColumns", ref.on_delete_set_columns && list(ref.on_delete_set_columns)],
        ])
      })`;
    }
    default:
      return undefined;
  }
}

function addColumn(body: Body, imports: Imports): string | undefined {
  if (!only(body, ["table", "column", "up"])) return undefined;
  const column = body.column as Body;
  const built = columnBuilder(column, imports);
  if (!built || column.pk || column.generated) return undefined;
  // The DSL demands `up` for a NOT NULL column without a default (existing rows need a value).
  const fills = column.nullable === true || column.default !== undefined ||
    /serial/.test(String(column.type));
  if (!fills && body.up === undefined) return undefined;
  const up = body.up === undefined ? "" : `, { up: ${sqlText(body.up, imports)} }`;
  return imports.use(
    "addColumn",
    `addColumn(${str(body.table)}, ${str(column.name)}, ${built}${up})`,
  );
}

function alterColumn(body: Body, imports: Imports): string | undefined {
  const changes = ["type", "nullable", "check", "references", "unique", "default", "comment"];
  if (!only(body, ["table", "column", "up", "down", ...changes])) return undefined;
  if (!changes.some((c) => body[c] !== undefined)) return undefined;
  // Every required `up`/`down` goes with the first change; the DSL keeps them for the rest.
  let convert: [string, string | undefined][] | undefined = [
    ["up", body.up === undefined ? undefined : sqlText(body.up, imports)],
    ["down", body.down === undefined ? undefined : sqlText(body.down, imports)],
  ];
  const take = (): [string, string | undefined][] => {
    const given = convert ?? [];
    convert = undefined;
    return given;
  };
  const calls: string[] = [];
  if (body.type !== undefined) {
    if (body.up === undefined || body.down === undefined) return undefined;
    calls.push(`.type(${typeBuilder(body.type, imports)}, ${object(take())})`);
  }
  if (body.nullable === false) calls.push(`.notNull(${object(take()) ?? ""})`);
  if (body.nullable === true) calls.push(`.nullable(${object(take()) ?? ""})`);
  if (body.check !== undefined) {
    if (!only(body.check, ["name", "constraint"])) return undefined;
    calls.push(
      `.check(${str(body.check.name)}, ${sqlText(body.check.constraint, imports)}${
        optionsArg(take())
      })`,
    );
  }
  if (body.references !== undefined) {
    const ref = body.references as Body;
    const fields = ["name", "table", "column", "on_delete", "on_update", "match_type"];
    if (!only(ref, [...fields, "deferrable", "initially_deferred"])) return undefined;
    calls.push(
      `.references(${str(ref.name)}, ${str(ref.table)}, ${str(ref.column)}${
        optionsArg([...foreignKeyOptions(ref), ...take()])
      })`,
    );
  }
  if (body.unique !== undefined) {
    if (!only(body.unique, ["name"])) return undefined;
    calls.push(`.unique(${str(body.unique.name)}${optionsArg(take())})`);
  }
  if (typeof body.default === "string") {
    calls.push(`.default(${sqlText(body.default, imports)}${optionsArg(take())})`);
  } else if (body.default === null) calls.push(`.dropDefault(${object(take()) ?? ""})`);
  if (typeof body.comment === "string") {
    calls.push(`.comment(${str(body.comment)}${optionsArg(take())})`);
  } else if (body.comment === null) calls.push(`.dropComment(${object(take()) ?? ""})`);
  return imports.use(
    "alterColumn",
    `alterColumn(${str(body.table)}, ${str(body.column)})\n      ${calls.join("\n      ")}`,
  );
}

function createConstraint(body: Body, imports: Imports): string | undefined {
  const base = ["table", "name", "type", "columns", "up", "down"];
  const columns = (body.columns ?? []) as string[];
  const convert: [string, string | undefined][] = [
    ["up", perColumn(body.up, imports)],
    ["down", perColumn(body.down, imports)],
  ];
  // The DSL needs `up` and `down` for exactly the constraint's columns.
  const complete = (["up", "down"] as const).every((d) => {
    const keys = Object.keys(body[d] ?? {});
    return keys.length === columns.length && columns.every((c) => keys.includes(c));
  });
  if (!complete) return undefined;
  const head = `createConstraint(${str(body.table)}, ${str(body.name)})`;
  let tail: string;
  switch (body.type) {
    case "unique":
    case "primary_key":
      if (!only(body, base) || columns.length === 0) return undefined;
      tail = `.${body.type === "unique" ? "unique" : "primaryKey"}(${list(columns)}, ${
        object(convert)
      })`;
      break;
    case "check":
      if (!only(body, [...base, "check", "no_inherit"])) return undefined;
      tail = `.check(${sqlText(body.check, imports)}, ${list(columns)}${
        optionsArg([...convert, ["noInherit", body.no_inherit && "true"]])
      })`;
      break;
    case "foreign_key": {
      if (!only(body, [...base, "references"]) || columns.length === 0) return undefined;
      const ref = body.references as Body;
      const fields = ["table", "columns", "on_delete", "on_update", "match_type"];
      if (!only(ref, [...fields, "on_delete_set_columns"])) return undefined;
      tail = `.foreignKey(${list(columns)}, ${str(ref.table)}, ${list(ref.columns)}${
        optionsArg([
          ...convert,
          ...foreignKeyOptions(ref),
          ["onDeleteSetColumns", ref.on_delete_set_columns && list(ref.on_delete_set_columns)],
        ])
      })`;
      break;
    }
    default:
      return undefined;
  }
  return imports.use("createConstraint", `${head}\n      ${tail}`);
}

function createIndex(body: Body, imports: Imports): string | undefined {
  if (!only(body, ["name", "table", "columns", "method", "unique", "predicate"])) return undefined;
  const columns: string[] = [];
  for (const c of body.columns as Body[]) {
    if (!only(c, ["column", "collate", "sort", "nulls", "opclass"])) return undefined;
    if (c.opclass && !only(c.opclass, ["name"])) return undefined;
    columns.push(
      Object.keys(c).length === 1 ? str(c.column) : object([
        ["column", str(c.column)],
        ["collate", c.collate && str(c.collate)],
        ["sort", c.sort && str(c.sort)],
        ["nulls", c.nulls && str(c.nulls)],
        ["opclass", c.opclass && str(c.opclass.name)],
      ])!,
    );
  }
  const options = optionsArg([
    ["method", body.method && str(body.method)],
    ["unique", body.unique && "true"],
    ["predicate", body.predicate && sqlText(body.predicate, imports)],
  ]);
  return imports.use(
    "createIndex",
    `createIndex(${str(body.name)}, ${str(body.table)}, [${columns.join(", ")}]${options})`,
  );
}

/** A value as a TypeScript literal (for `operation(kind, {…})`), indented for its place. */
function literal(value: unknown, indent: number): string {
  const pad = " ".repeat(indent + 2);
  const end = " ".repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((v) => `${pad}${literal(v, indent + 2)},`).join("\n")}\n${end}]`;
  }
  if (value && typeof value === "object") {
    const entries = Object.entries(value);
    if (entries.length === 0) return "{}";
    return `{\n${
      entries.map(([k, v]) => `${pad}${key(k)}: ${literal(v, indent + 2)},`).join("\n")
    }\n${end}}`;
  }
  return JSON.stringify(value);
}

/**
 * The demo: starts a throwaway PostgreSQL, then runs real migrations through the real CLI, the
 * way a team would in CI — init → start → old and new versions answering side by side →
 * complete → a second migration started and rolled back.
 *
 *   npm run demo
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { startPostgres } from "./embedded-postgres.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const migrations = join(root, "scripts", "demo");

const bold = process.stdout.isTTY && process.env.NO_COLOR === undefined
  ? (text: string) => `\x1b[1m${text}\x1b[0m`
  : (text: string) => text;

function step(title: string): void {
  process.stdout.write(`\n${bold(`== ${title}`)}\n`);
}

/** Runs the CLI as a user would, printing the command and its output. */
function pgtandem(url: string, ...args: string[]): void {
  process.stdout.write(`$ pgtandem ${args.join(" ")}\n`);
  const result = spawnSync(process.execPath, [join(root, "main.ts"), ...args], {
    env: { ...process.env, PGROLL_PG_URL: url },
    encoding: "utf8",
  });
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  if (result.status !== 0) throw new Error(`pgtandem ${args[0]} failed (exit ${result.status})`);
}

async function query(url: string, searchPath: string, text: string) {
  const sql = postgres(url, {
    max: 1,
    onnotice: () => {},
    connection: { search_path: searchPath },
  });
  try {
    process.stdout.write(`  [search_path=${searchPath}] ${text}\n`);
    const rows = await sql.unsafe(text);
    for (const row of rows) process.stdout.write(`    ${JSON.stringify(row)}\n`);
  } finally {
    await sql.end();
  }
}

const pg = await startPostgres();
try {
  const url = pg.url;
  step(`PostgreSQL ${pg.version} running at ${url}`);
  pgtandem(url, "init");

  step("First migration: create the users table, start and complete it at once");
  pgtandem(url, "start", join(migrations, "01_create_users.yaml"), "--complete");
  await query(
    url,
    "public_01_create_users",
    "insert into users (name, email) values ('Ada', 'ada@example.com'), ('Linus', null) returning *",
  );

  step("Second migration: rename a column and add one, both versions live side by side");
  pgtandem(url, "start", join(migrations, "02_rename_and_add.yaml"));
  pgtandem(url, "status");
  await query(
    url,
    "public_01_create_users",
    "insert into users (name) values ('old client') returning *",
  );
  await query(
    url,
    "public_02_rename_and_add",
    "insert into users (full_name, plan) values ('new client', 'pro') returning *",
  );
  await query(url, "public_01_create_users", "select id, name, email from users order by id");
  await query(
    url,
    "public_02_rename_and_add",
    "select id, full_name, email, plan from users order by id",
  );

  step("Complete it: the old version is removed, the physical schema is final");
  pgtandem(url, "complete");
  await query(url, "public", "select id, full_name, plan from users order by id");

  step("Third migration: drop the table ... then change our mind and roll back");
  pgtandem(url, "start", join(migrations, "03_drop_users.yaml"));
  await query(url, "public_02_rename_and_add", "select count(*) as users_still_there from users");
  pgtandem(url, "rollback");
  await query(
    url,
    "public_02_rename_and_add",
    "select count(*) as users_after_rollback from users",
  );
  pgtandem(url, "status");
  step("Demo finished");
} finally {
  await pg.stop();
}

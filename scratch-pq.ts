import { loadSqlParser } from "./lib/lint/parser.ts";
const p = await loadSqlParser();
const sql = process.argv[2]!;
for (const s of p.parse(sql)) console.log(s.kind, JSON.stringify(s.node), "|", s.text, s.location);

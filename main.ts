/**
 * pgtandem's entry point: wires the CLI to the process. Everything else lives in lib/.
 */
import process from "node:process";
import { runCli } from "./lib/cli/run.ts";

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
process.exitCode = code;

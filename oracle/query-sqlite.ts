// Loads a generated sqlite-core schema.ts into drizzle-orm's relational query
// API over a SQLite file and reads every table with all its relations, the
// way an app would: `tsx query-sqlite.ts <database-file> <schema.ts> [seed.sql]`.
// The optional seed script runs first (foreign keys enforced, as in an app).
// drizzle-orm resolves the relations here and throws when one is ambiguous or
// incomplete; column modes (json, boolean, timestamp) decode what SQLite
// holds. Prints, per table, its relations and its rows (dates as ISO text).
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [file, schemaPath, seed] = process.argv.slice(2);
if (!file || !schemaPath) {
  console.error("usage: tsx query-sqlite.ts <database-file> <schema.ts> [seed.sql]");
  process.exit(2);
}
const schema = await import(pathToFileURL(schemaPath).href);
const client = new Database(file);
try {
  if (seed) {
    client.exec(readFileSync(seed, "utf8"));
  }
  const db = drizzle(client, { schema });
  const tables = (db as any)._.schema as Record<string, { relations: Record<string, unknown> }>;
  const report: Record<string, { relations: string[]; rows: unknown[] }> = {};
  for (const [key, config] of Object.entries(tables)) {
    const relations = Object.keys(config.relations);
    const withAll = Object.fromEntries(relations.map((name) => [name, true]));
    const rows = await (db.query as any)[key].findMany({ with: withAll });
    report[key] = { relations, rows };
  }
  console.log(JSON.stringify(report));
} finally {
  client.close();
}

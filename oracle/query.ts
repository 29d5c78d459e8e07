// Loads a generated schema.ts into drizzle-orm's relational query API and
// runs one query per table that follows every relation, the way an app
// would: `tsx query.ts <database-url> <schema.ts>`. drizzle-orm resolves the
// relations here and throws when one is ambiguous or incomplete.
import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import { pathToFileURL } from "node:url";

const [url, schemaPath] = process.argv.slice(2);
if (!url || !schemaPath) {
  console.error("usage: tsx query.ts <database-url> <schema.ts>");
  process.exit(2);
}
const schema = await import(pathToFileURL(schemaPath).href);
const client = new pg.Client({ connectionString: url });
await client.connect();
try {
  const db = drizzle(client, { schema });
  const tables = (db as any)._.schema as Record<string, { relations: Record<string, unknown> }>;
  const report: Record<string, string[]> = {};
  for (const [key, config] of Object.entries(tables)) {
    const relations = Object.keys(config.relations);
    const withAll = Object.fromEntries(relations.map((name) => [name, true]));
    await (db.query as any)[key].findMany({ with: withAll, limit: 1 });
    report[key] = relations;
  }
  console.log(JSON.stringify(report));
} finally {
  await client.end();
}

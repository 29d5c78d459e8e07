// Applies a drizzle-kit migrations folder with drizzle-orm's own migrator, the
// way an application does: `node migrate.mjs <database-url> <folder>`.
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";

const [url, folder] = process.argv.slice(2);
if (!url || !folder) {
  console.error("usage: node migrate.mjs <database-url> <migrations-folder>");
  process.exit(2);
}
const client = new pg.Client({ connectionString: url });
await client.connect();
try {
  await migrate(drizzle(client), { migrationsFolder: folder });
  const { rows } = await client.query('select hash, created_at from "drizzle"."__drizzle_migrations" order by id');
  console.log(JSON.stringify(rows));
} finally {
  await client.end();
}

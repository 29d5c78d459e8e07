// Applies a drizzle-kit migrations folder to a SQLite file with drizzle-orm's
// own migrator (better-sqlite3), the way an application does:
// `node migrate-sqlite.mjs <database-file> <folder>`. Prints the rows of
// drizzle's `__drizzle_migrations` as JSON. Like an application's connection,
// better-sqlite3 enforces foreign keys; drizzle runs every pending migration
// in one transaction, where `PRAGMA foreign_keys=OFF` has no effect.
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";

const [file, folder] = process.argv.slice(2);
if (!file || !folder) {
  console.error("usage: node migrate-sqlite.mjs <database-file> <migrations-folder>");
  process.exit(2);
}
const client = new Database(file);
try {
  migrate(drizzle(client), { migrationsFolder: folder });
  const rows = client.prepare('select hash, created_at from "__drizzle_migrations" order by created_at').all();
  console.log(JSON.stringify(rows));
} finally {
  client.close();
}

import { MongoClient, type Db } from 'mongodb';

export interface MongoConnection {
  client: MongoClient;
  db: Db;
  close(): Promise<void>;
}

/**
 * Connects to MongoDB (or a wire-compatible server) and checks it with a ping.
 * TLS and credentials come from the URL (`mongodb+srv://…`, `?tls=true`); the URL is never logged.
 * `monitorCommands` makes the client emit `commandStarted`/`commandSucceeded` events (tests use them
 * to see what each flow asks of the server).
 *
 * With `lazy: true` nothing is awaited: the driver connects on the first operation, and every
 * operation while the server cannot be reached fails after `serverSelectionTimeoutMS` (default
 * 10 s) with an error `isStorageUnavailable` recognises. A process that must work without the
 * database (the worker's crisis replies) starts this way. The URL must still parse (checked here).
 */
export async function connectMongo(url: string, dbName: string, options: { serverSelectionTimeoutMS?: number; monitorCommands?: boolean; lazy?: boolean } = {}): Promise<MongoConnection> {
  const client = new MongoClient(url, {
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 10_000,
    appName: 'inner-talk',
    monitorCommands: options.monitorCommands ?? false,
  });
  const db = client.db(dbName);
  if (!options.lazy) {
    await client.connect();
    await db.command({ ping: 1 });
  }
  return { client, db, close: () => client.close() };
}

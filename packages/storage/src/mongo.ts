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
 */
export async function connectMongo(url: string, dbName: string, options: { serverSelectionTimeoutMS?: number; monitorCommands?: boolean } = {}): Promise<MongoConnection> {
  const client = new MongoClient(url, {
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 10_000,
    appName: 'inner-talk',
    monitorCommands: options.monitorCommands ?? false,
  });
  await client.connect();
  const db = client.db(dbName);
  await db.command({ ping: 1 });
  return { client, db, close: () => client.close() };
}

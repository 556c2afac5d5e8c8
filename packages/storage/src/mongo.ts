import { MongoClient, type Db } from 'mongodb';

export interface MongoConnection {
  client: MongoClient;
  db: Db;
  close(): Promise<void>;
}

/**
 * Connects to MongoDB (or a wire-compatible server) and checks it with a ping.
 * TLS and credentials come from the URL (`mongodb+srv://…`, `?tls=true`); the URL is never logged.
 */
export async function connectMongo(url: string, dbName: string, options: { serverSelectionTimeoutMS?: number } = {}): Promise<MongoConnection> {
  const client = new MongoClient(url, {
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 10_000,
    appName: 'inner-talk',
  });
  await client.connect();
  const db = client.db(dbName);
  await db.command({ ping: 1 });
  return { client, db, close: () => client.close() };
}

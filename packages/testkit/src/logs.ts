import fs from 'node:fs';
import type { AppProcess } from './spawn';

/** One JSON log line of an app (pino), tagged with the app's name. */
export type LogRecord = Record<string, unknown> & { app: string };

/**
 * The JSON lines the apps printed, in each app's order, apps one after another. `memory` reads the
 * bounded in-memory output (the newest megabyte); `file` reads the whole log file, for runs long
 * enough to outgrow it. Lines that are not JSON objects (tsx's own output, pretty logs) are skipped.
 */
export function logRecords(apps: readonly AppProcess[], source: 'memory' | 'file' = 'memory'): LogRecord[] {
  return apps.flatMap((app) => {
    const text = source === 'file' ? fs.readFileSync(app.logFile, 'utf8') : app.logs();
    return text
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .flatMap((line) => {
        try {
          return [{ ...(JSON.parse(line) as Record<string, unknown>), app: app.name }];
        } catch {
          return [];
        }
      });
  });
}

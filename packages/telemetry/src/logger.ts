import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino replaces with "[redacted]" wherever they appear. Our code never logs message text or
 * credentials on purpose; this list is the safety net for objects logged whole (errors carrying a
 * request, an update, a config object).
 */
export const REDACTED_PATHS = [
  'text',
  '*.text',
  '*.*.text',
  'caption',
  '*.caption',
  'message.text',
  'update.message',
  'update.edited_message',
  'update.callback_query',
  'content',
  '*.content',
  'prompt',
  '*.prompt',
  'token',
  '*.token',
  'apiKey',
  '*.apiKey',
  'secret',
  '*.secret',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'headers["x-telegram-bot-api-secret-token"]',
  '*.headers["x-telegram-bot-api-secret-token"]',
  'headers["x-goog-api-key"]',
  '*.headers["x-goog-api-key"]',
  'TELEGRAM_BOT_TOKEN',
  'WEBHOOK_SECRET',
  'LLM_GEMINI_KEYS',
  'LLM_OPENAI_KEYS',
  'MONGO_URL',
  'REDIS_URL',
];

export interface LoggerOptions {
  app: string;
  level: string;
  /** Human-readable output for development; JSON otherwise. */
  pretty?: boolean;
  /** Strings that must never appear in a log line (bot token, API keys): masked wherever they occur. */
  secrets?: readonly string[];
  /** Where lines go; defaults to stdout. Tests pass a stream to inspect output. */
  destination?: pino.DestinationStream;
}

/**
 * A pino logger with our redaction rules, `app` and `pid` on every line. Known secret strings are
 * masked in the final line too (a token can hide inside an error message or URL, e.g. grammY's
 * `/bot<token>/` paths), so they cannot leak through fields the redaction paths do not name.
 */
export function createLogger(options: LoggerOptions): Logger {
  const secrets = (options.secrets ?? []).filter((s) => s.length >= 8);
  const base = { app: options.app };
  const redact = { paths: REDACTED_PATHS, censor: '[redacted]' };
  if (options.pretty && !options.destination) {
    return pino({ level: options.level, base, redact, transport: { target: 'pino-pretty', options: { colorize: true } } });
  }
  const destination = options.destination ?? pino.destination({ sync: false });
  const stream = secrets.length === 0 ? destination : maskingStream(destination, secrets);
  return pino({ level: options.level, base: { ...base, pid: process.pid }, redact }, stream);
}

function maskingStream(inner: pino.DestinationStream, secrets: readonly string[]): pino.DestinationStream {
  return {
    write(line: string) {
      let out = line;
      for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join('[redacted]');
      inner.write(out);
    },
  };
}

import { Bot, type Context, type Transformer } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';
import { autoRetry } from '@grammyjs/auto-retry';
import { localeFromLanguageCode, TEXTS, type Conversation, type Incoming } from '@inner-talk/conversation';
import { AllProvidersUnavailableError } from '@inner-talk/gateway';
import { splitMessage } from '@inner-talk/telegram';
import { METRICS, type ClusterMetricsWriter, type Logger } from '@inner-talk/telemetry';

export interface WorkerBotOptions {
  token: string;
  apiRoot: string;
  botInfo: UserFromGetMe;
  conversation: Conversation;
  logger: Logger;
  /** True the first time it is called for an update (cluster-wide): gate for the "I need a moment" notice. */
  claimWaitNotice(updateId: number): Promise<boolean>;
  /** Where the duration of every Bot API call goes (innertalk_telegram_api_seconds); none in unit tests. */
  metrics?: ClusterMetricsWriter;
}

/**
 * Times every Bot API HTTP call and records it by method and outcome: `ok`, `error_<code>` (Telegram
 * answered ok: false, e.g. error_429) or `network` (no answer). Installed below auto-retry, so each
 * attempt is one observation. Metrics never fail or slow a call: the write is not awaited.
 */
function timeApiCalls(metrics: ClusterMetricsWriter): Transformer {
  return async (prev, method, payload, signal) => {
    const startedAt = performance.now();
    let outcome = 'network';
    try {
      const response = await prev(method, payload, signal);
      outcome = response.ok ? 'ok' : `error_${response.error_code}`;
      return response;
    } finally {
      metrics
        .record([{ spec: METRICS.telegramApiLatency, labels: { method, outcome }, valueMs: performance.now() - startedAt }])
        .catch(() => undefined);
    }
  };
}

/** What handling one update did; read by the job processor for metrics. */
export interface UpdateReport {
  repliesSent: number;
  waitNoticeSent: boolean;
}

/**
 * The Telegram adapter of the worker: a grammY bot that never polls (updates arrive through the
 * queue and `handleUpdate`), translates Telegram updates into the conversation's terms and sends
 * the replies. `reports` maps update_id → what was done, for the processor.
 */
export function createWorkerBot(options: WorkerBotOptions): { bot: Bot; reports: Map<number, UpdateReport> } {
  const bot = new Bot(options.token, { botInfo: options.botInfo, client: { apiRoot: options.apiRoot } });
  // Installed first, so it sits below auto-retry and times each attempt.
  if (options.metrics) bot.api.config.use(timeApiCalls(options.metrics));
  // Capped: the plugin's defaults retry forever. A job holds a concurrency slot while it waits.
  bot.api.config.use(autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 30 }));
  const reports = new Map<number, UpdateReport>();

  const respond = async (ctx: Context, incoming: Incoming) => {
    const chatId = ctx.chat?.id;
    if (chatId === undefined) return;
    // "typing…" is a courtesy: never wait for it and never fail the turn on it.
    ctx.api.sendChatAction(chatId, 'typing').catch(() => undefined);
    const report = reports.get(ctx.update.update_id);
    let replies;
    try {
      replies = await options.conversation.handle(incoming);
    } catch (error) {
      // Every provider is down or cooling down: the job will be delayed until one is back. Tell the
      // person once, so the silence is not read as being ignored; the real reply follows.
      if (error instanceof AllProvidersUnavailableError && (await options.claimWaitNotice(ctx.update.update_id))) {
        await ctx.api.sendMessage(chatId, TEXTS[incoming.locale].needAMoment);
        if (report) report.waitNoticeSent = true;
      }
      throw error;
    }
    for (const reply of replies) {
      for (const part of splitMessage(reply.text)) {
        await ctx.api.sendMessage(chatId, part);
        if (report) report.repliesSent += 1;
      }
    }
  };

  const userOf = (ctx: Context) => {
    const from = ctx.from;
    if (!from) return null;
    return { userId: `tg:${from.id}`, locale: localeFromLanguageCode(from.language_code) };
  };

  bot.command('start', async (ctx) => {
    const user = userOf(ctx);
    if (user) await respond(ctx, { kind: 'start', ...user });
  });

  bot.on('message:text', async (ctx) => {
    const user = userOf(ctx);
    if (user) await respond(ctx, { kind: 'text', ...user, text: ctx.message.text, turnKey: `u${ctx.update.update_id}` });
  });

  bot.on('message', async (ctx) => {
    const user = userOf(ctx);
    if (user) await respond(ctx, { kind: 'unsupported', ...user });
  });

  return { bot, reports };
}

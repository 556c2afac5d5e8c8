/**
 * The baseline of `pnpm bench:load`: what a small team builds from the seed's description — one
 * Node process, a grammY bot behind a webhook (grammY's own `webhookCallback` on node:http), the
 * same conversation core, stores and safety check as our workers, and the LLM called directly
 * through the same provider adapter (no queue, no Redis, no shared limits or breakers, no metrics,
 * no per-chat ordering or coalescing).
 *
 * Why a webhook rather than long polling: the seed describes stateless instances scaled
 * horizontally with Telegram's Bot API doing the balancing; only a webhook behind a load balancer
 * does that (two long-polling processes of one bot conflict with each other).
 *
 * `webhookCallback` answers Telegram when the handler has finished (or after its 10 s timeout, with
 * an error), so Telegram's connection limit (max_connections, 40 by default) bounds the messages in
 * flight, and an update whose handler dies with the process is redelivered by Telegram. Both are
 * what such a bot does in production; the benchmark measures them, it does not assume them.
 *
 * Started by bench/load.ts as a separate process. Environment (all required unless noted):
 *   TELEGRAM_BOT_TOKEN, TELEGRAM_API_ROOT, MONGO_URL, MONGO_DB, HTTP_PORT, WEBHOOK_SECRET,
 *   WEBHOOK_PUBLIC_URL (registered with setWebhook at start), DATA_ENCRYPTION_KEYS, LLM_* as for the
 *   worker (only the first provider is used); optional as in the worker: DATA_ENCRYPTION_KEY_ID,
 *   LLM_DEADLINE_MS (45000), SAFETY_CLASSIFIER_TIMEOUT_MS (5000).
 */
import { createServer } from 'node:http';
import { Bot, webhookCallback, type Context } from 'grammy';
import { Conversation, crisisCheck, localeFromLanguageCode, TurnDeferredError, type Incoming } from '@inner-talk/conversation';
import { defaultAdapter, parseGatewayEnv } from '@inner-talk/gateway';
import { AssessmentStore, connectMongo, ConsentStore, ConversationStore, SessionStore } from '@inner-talk/storage';
import { parseKeyring, Vault } from '@inner-talk/vault';

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`baseline bot: ${name} is required but not set`);
    process.exit(2);
  }
  return value;
}

async function main(): Promise<void> {
  const token = required('TELEGRAM_BOT_TOKEN');
  const secret = required('WEBHOOK_SECRET');
  const publicUrl = required('WEBHOOK_PUBLIC_URL');
  const port = Number(required('HTTP_PORT'));
  const deadlineMs = Number(process.env.LLM_DEADLINE_MS ?? 45_000);
  const classifierTimeoutMs = Number(process.env.SAFETY_CLASSIFIER_TIMEOUT_MS ?? 5_000);

  // The same stores, vault and conversation options as apps/worker/src/index.ts: keep them in step.
  const mongo = await connectMongo(required('MONGO_URL'), required('MONGO_DB'));
  const vault = new Vault(parseKeyring(required('DATA_ENCRYPTION_KEYS'), process.env.DATA_ENCRYPTION_KEY_ID));
  const store = new ConversationStore(mongo.db, { vault });
  const selfChecks = new AssessmentStore(mongo.db, { vault });
  const sessions = new SessionStore(mongo.db, { vault });
  await store.ensureIndexes();
  await selfChecks.ensureIndexes();
  await sessions.ensureIndexes();

  // One provider, called directly: the first of the chain, with its first key and its own timeout.
  const route = parseGatewayEnv(process.env, 'baseline').chain[0]!;
  const provider = defaultAdapter(route, route.keys[0]!);
  const model = { name: provider.name, model: provider.model, complete: (request: Parameters<typeof provider.complete>[0]) => provider.complete({ ...request, timeoutMs: Math.min(route.timeoutMs, request.timeoutMs) }) };
  const conversation = new Conversation({
    model,
    memory: store,
    consents: new ConsentStore(mongo.db),
    selfChecks,
    sessions,
    safety: crisisCheck({ model, timeoutMs: classifierTimeoutMs }),
    llmTimeoutMs: deadlineMs,
  });

  const bot = new Bot(token, { client: { apiRoot: required('TELEGRAM_API_ROOT') } });
  const respond = async (ctx: Context, chatId: number, incoming: Incoming) => {
    if (incoming.kind === 'text') ctx.api.sendChatAction(chatId, 'typing').catch(() => undefined);
    // A turn that must wait (the crisis check could not run, storage down) still says what it must
    // now; the baseline has no queue to run it again, so that is all it says.
    const replies = await conversation.handle(incoming).catch((error: unknown) => {
      if (error instanceof TurnDeferredError) return error.interim;
      throw error;
    });
    for (const reply of replies) {
      const keyboard = reply.buttons?.length ? { inline_keyboard: reply.buttons.map((row) => row.map((b) => ({ text: b.label, callback_data: b.action }))) } : undefined;
      await ctx.api.sendMessage(chatId, reply.text, keyboard ? { reply_markup: keyboard } : undefined);
    }
  };
  const personOf = (ctx: Context) => ({ userId: `tg:${ctx.from!.id}`, locale: localeFromLanguageCode(ctx.from!.language_code), turnKey: `u${ctx.update.update_id}` });
  bot.on('message:text', (ctx) => {
    const command = ctx.message.entities?.[0]?.type === 'bot_command' && ctx.message.entities[0].offset === 0 ? ctx.message.text.slice(1, ctx.message.entities[0].length).split('@')[0]!.toLowerCase() : null;
    return respond(ctx, ctx.chat.id, command === null ? { kind: 'text', ...personOf(ctx), text: ctx.message.text } : { kind: 'command', ...personOf(ctx), name: command });
  });
  bot.on('callback_query:data', async (ctx) => {
    await ctx.answerCallbackQuery().catch(() => undefined);
    await respond(ctx, ctx.chat?.id ?? ctx.from.id, { kind: 'choice', ...personOf(ctx), action: ctx.callbackQuery.data });
  });
  bot.on('message', (ctx) => respond(ctx, ctx.chat.id, { kind: 'unsupported', ...personOf(ctx) }));
  // Without a handler grammY rethrows, and an unhandled rejection would end the process.
  bot.catch((err) => console.error(`update ${err.ctx.update.update_id} failed: ${err.error instanceof Error ? err.error.name : typeof err.error}`));

  const handle = webhookCallback(bot, 'http', { secretToken: secret });
  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === new URL(publicUrl).pathname) {
      // The 10 s timeout of webhookCallback rejects; answer 500 so Telegram redelivers, as it would.
      handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
      return;
    }
    res.writeHead(req.url === '/healthz' ? 200 : 404).end(req.url === '/healthz' ? 'ok' : '');
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  await bot.api.setWebhook(publicUrl, { secret_token: secret });
  console.log(`baseline bot listening on ${port}`);

  const stop = () => {
    server.close();
    void mongo.close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(`baseline bot failed to start: ${error instanceof Error ? `${error.name}: ${error.message}` : typeof error}`);
  process.exit(1);
});

import { ProviderError, type ChatProvider } from '@inner-talk/llm';
import { CrisisDetector, UnreadableClassifierAnswerError } from '@inner-talk/safety';
import { SafetyCheckUnavailableError } from './errors';
import type { SafetyCheck } from './types';

export interface CrisisCheckOptions {
  /** The model layer (in the worker: the LLM gateway). */
  model: ChatProvider;
  /** Budget of one classifier call, from asking to the answer. */
  timeoutMs: number;
  /**
   * When a model can be asked again, if `error` says so (the gateway's AllProvidersUnavailableError
   * carries it); null otherwise.
   */
  retryAtOf?: (error: unknown) => number | null;
}

/**
 * True for a classifier failure that asking again will not cure: the provider read the message and
 * declined it (a safety block or content filter, which for this prompt says the text itself is
 * about harm), or the model answered with something other than the three words.
 */
function isLastingFailure(cause: unknown): boolean {
  return cause instanceof UnreadableClassifierAnswerError || (cause instanceof ProviderError && cause.kind === 'refused');
}

/**
 * The crisis check of the conversation: the safety package's two-layer CrisisDetector.
 *
 * A high phrase match is answered at once, without the model. Otherwise the classifier must answer:
 * when it cannot for a passing reason (an error, every provider unavailable, no answer in time),
 * `assess` throws SafetyCheckUnavailableError instead of reading the failure as a crisis. The
 * conversation then gives the person the crisis contacts at once and asks again later, so the
 * message is classified before it is ever answered, and no risk event is stored for a message
 * nobody could read.
 *
 * A lasting failure (a refusal, an unreadable answer) would fail the same way on every later try and
 * hold the person's chat for good, so it fails closed at once: high risk (source `classifier_error`),
 * the crisis reply, and the chat moves on.
 */
export function crisisCheck(options: CrisisCheckOptions): SafetyCheck {
  const detector = new CrisisDetector({ model: options.model, timeoutMs: options.timeoutMs });
  return {
    async assess(text) {
      const risk = await detector.assess(text);
      if (risk.classifierFailure) {
        const { cause } = risk.classifierFailure;
        if (isLastingFailure(cause)) return { level: risk.level, sources: risk.sources };
        throw new SafetyCheckUnavailableError(options.retryAtOf?.(cause) ?? null, { cause });
      }
      return risk;
    },
  };
}

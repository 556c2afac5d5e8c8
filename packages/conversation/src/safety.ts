import type { ChatProvider } from '@inner-talk/llm';
import { CrisisDetector } from '@inner-talk/safety';
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
 * The crisis check of the conversation: the safety package's two-layer CrisisDetector.
 *
 * A high phrase match is answered at once, without the model. Otherwise the classifier must answer:
 * when it cannot (an error, every provider unavailable, a refusal, no answer in time, an unreadable
 * answer), `assess` throws SafetyCheckUnavailableError instead of reading the failure as a crisis.
 * The conversation then gives the person the crisis contacts at once and asks again later, so the
 * message is classified before it is ever answered, and no risk event is stored for a message
 * nobody could read.
 */
export function crisisCheck(options: CrisisCheckOptions): SafetyCheck {
  const detector = new CrisisDetector({ model: options.model, timeoutMs: options.timeoutMs });
  return {
    async assess(text) {
      const risk = await detector.assess(text);
      if (risk.classifierFailure) {
        const { cause } = risk.classifierFailure;
        throw new SafetyCheckUnavailableError(options.retryAtOf?.(cause) ?? null, { cause });
      }
      return risk;
    },
  };
}

import type { ChatProvider } from '@inner-talk/llm';
import { classifyByPhrases, CrisisDetector } from '@inner-talk/safety';
import type { SafetyCheck } from './types';

export interface CrisisCheckOptions {
  /** The model layer (in the worker: the LLM gateway). */
  model: ChatProvider;
  /** Budget of one classifier call; past it the call counts as a failure, and failures count as risk. */
  timeoutMs: number;
  /**
   * True for an error that means "no model can answer right now, try again later" (the gateway's
   * AllProvidersUnavailableError), as opposed to a failure of this call.
   */
  isOutage?: (error: unknown) => boolean;
}

/**
 * The crisis check of the conversation: the safety package's two-layer CrisisDetector, which fails
 * closed (a classifier error or timeout counts as high risk).
 *
 * One refinement: when the classifier could not run because every provider is unavailable for now
 * (`isOutage`), and the phrase list alone does not already say high risk, the outage error is
 * rethrown instead of being read as risk. The message then waits, unanswered, until a provider is
 * back (the worker delays the job and tells the person it needs a moment) and is classified then.
 * Without this, every message during an outage would get the crisis reply, and a risk event would
 * be stored for each. Nothing is ever answered without both layers having run, and a high phrase
 * match is answered with the crisis reply at once, outage or not.
 */
export function crisisCheck(options: CrisisCheckOptions): SafetyCheck {
  return {
    async assess(text) {
      let outage: unknown = null;
      const watched: ChatProvider = {
        name: options.model.name,
        model: options.model.model,
        complete: async (request) => {
          try {
            return await options.model.complete(request);
          } catch (error) {
            if (options.isOutage?.(error)) outage = error;
            throw error;
          }
        },
      };
      const risk = await new CrisisDetector({ model: watched, timeoutMs: options.timeoutMs }).assess(text);
      if (outage !== null && classifyByPhrases(text).level !== 'high') throw outage;
      return risk;
    },
  };
}

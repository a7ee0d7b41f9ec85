// Echo scoring, `--scoring echo` (vLLM, lm-evaluation-harness's method): each answer text is sent as a continuation
// of the context and the server echoes the prompt's log-probabilities, so the answer's probability is exact for the
// server's tokenisation of it. Plain completions read `echo: true` + text_offset; with --chat, vLLM's
// prompt_logprobs of a continued assistant message (docs/backends.md, "echo").
import { RunError } from "../errors.ts";
import { RemoteTextBackend } from "./remote/text.ts";
import { parseEcho, parsePromptLogprobs } from "./remote/shapes.ts";
import type { PromptParts, TextScored } from "./types.ts";
import { fromBytes } from "./vocab.ts";

/** Code points, the unit of vLLM's text_offset (Python string indices). */
const codePoints = (s: string) => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

/** What to do when the server says it does not support echo / prompt_logprobs (docs/backends.md, "echo"). */
const UNSUPPORTED_HINT = "echo scoring needs a server that returns the prompt's log-probabilities (vLLM); with llama-server use --scoring tokens (or --scoring auto), elsewhere --scoring top-k";

export class EchoBackend extends RemoteTextBackend {
  readonly scoring = "echo" as const;

  async score(prompt: PromptParts, written: string, texts: readonly string[]): Promise<TextScored> {
    return this.chat ? this.scoreChatEcho(prompt, written, texts) : this.scoreEcho(prompt, written, texts);
  }

  /**
   * --chat on vLLM: the option ends a final assistant message that the server continues (template applied by the
   * server); `prompt_logprobs: 0` gives each prompt token's log-probability and text, and the option's tokens are the
   * trailing ones whose texts add up to the option exactly.
   */
  private async scoreChatEcho(prompt: PromptParts, written: string, texts: readonly string[]): Promise<TextScored> {
    const context = `${prompt.prefill}${fromBytes(written)}`;
    const raw = await Promise.all(
      texts.map(async (bytes) => {
        const option = fromBytes(bytes);
        this.stats.requests++;
        const body = {
          model: this.model,
          messages: [{ role: "user", content: prompt.user }, { role: "assistant", content: context + option }],
          max_tokens: 1,
          temperature: 0,
          prompt_logprobs: 0,
          continue_final_message: true,
          add_generation_prompt: false,
        };
        const tokens = await this.client.post(`${this.client.base}/chat/completions`, body, (j) => parsePromptLogprobs(j, this.client.server), { hint: UNSUPPORTED_HINT });
        const want = codePoints(option);
        let have = 0;
        let sum = 0;
        for (let i = tokens.length - 1; i >= 0 && have < want; i--) {
          const t = tokens[i]!;
          if (t.logprob === null) break;
          sum += t.logprob;
          have += codePoints(t.text);
        }
        if (have !== want) {
          throw new RunError(`${this.client.server}'s last prompt tokens do not end exactly at the start of the answer ${JSON.stringify(option.trim())} (the template or tokenisation merges it with the context); use --scoring top-k`);
        }
        return Math.exp(sum);
      }),
    );
    const total = raw.reduce((a, b) => a + b, 0);
    return { raw, leak: Math.max(0, 1 - total), unknown: 0, outside: [] };
  }

  /** Each option as a continuation: prompt = context + option, echo: true; sum the log-probs of the option's tokens. */
  private async scoreEcho(prompt: PromptParts, written: string, texts: readonly string[]): Promise<TextScored> {
    const context = `${prompt.user}\n${prompt.prefill}${fromBytes(written)}`;
    const start = codePoints(context);
    const url = `${this.client.base}/completions`;
    const raw = await Promise.all(
      texts.map(async (bytes) => {
        const option = fromBytes(bytes);
        const end = start + codePoints(option);
        this.stats.requests++;
        const echo = await this.client.post(url, { model: this.model, prompt: context + option, max_tokens: 1, echo: true, logprobs: 1, temperature: 0 }, (j) => parseEcho(j, this.client.server), { hint: UNSUPPORTED_HINT });
        let sum = 0;
        let counted = 0;
        for (let i = 0; i < echo.offsets.length; i++) {
          const from = echo.offsets[i]!;
          const to = echo.offsets[i + 1] ?? Infinity;
          if (from >= end) break; // the generated token (and anything after the option)
          if (to <= start) continue; // context
          if (from < start) {
            throw new RunError(`${this.client.server} tokenises the context and the answer ${JSON.stringify(option.trim())} together across their boundary (token ${JSON.stringify(echo.tokens[i])}); echo scoring needs a token boundary there: use --scoring top-k or a prompt that ends with a space-free prefill`);
          }
          const lp = echo.logprobs[i];
          if (lp === null || lp === undefined) throw new RunError(`${this.client.server} gave no log-probability for a token of the answer ${JSON.stringify(option.trim())}`);
          sum += lp;
          counted++;
        }
        if (counted === 0) throw new RunError(`${this.client.server} echoed no token for the answer ${JSON.stringify(option.trim())}; the server does not echo the prompt as expected`);
        return Math.exp(sum);
      }),
    );
    const total = raw.reduce((a, b) => a + b, 0);
    return { raw, leak: Math.max(0, 1 - total), unknown: 0, outside: [] };
  }
}

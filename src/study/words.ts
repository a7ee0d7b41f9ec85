// A study takes no command-line flags for its cells: an error raised below (the engine's "pass a larger
// --context-size or fewer --steps") names the study file's keys instead, so the advice can be followed.

/** Flags whose value a study sets with a key of its file, and that key. */
const STUDY_KEYS: Readonly<Record<string, string>> = {
  "--context-size": "engine.context_size",
  "--threads": "engine.threads",
  "--parallel": "engine.parallel",
  "--kv": "engine.kv",
  "--gpu-layers": "engine.gpu_layers",
  "--raw": "engine.raw",
  "--steps": "steps",
  "--runs": "runs",
  "--prune": "prune",
  "--prompt-file": "prompt_file or prompts",
  "--temperature": "temperatures",
  "--seed": "seeds",
  "--protocol": "protocols",
};

/** The message with every flag a study sets by a key replaced by "the study key KEY"; other text untouched. */
export function inStudyWords(message: string): string {
  const rewritten = message.replace(/--[a-z][a-z-]*/g, (flag) => (STUDY_KEYS[flag] ? `\u0000${STUDY_KEYS[flag]}` : flag));
  if (rewritten === message) return message;
  return `${rewritten.replace(/\u0000/g, "")} (keys of the study file)`;
}

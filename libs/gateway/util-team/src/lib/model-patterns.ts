/**
 * A model pattern as keys and the config file write them: a model name (`claude-sonnet-4-6`,
 * `Qwen/Qwen2.5-72B-Instruct`, `llama3.1:8b`), or a prefix followed by one `*` (`gpt-*`).
 */
export const MODEL_PATTERN = /^[A-Za-z0-9@][A-Za-z0-9._:/@+-]*\*?$/;

/** Whether `model` is what `pattern` names: the same name, or, for a pattern ending in `*`, any name it starts. */
export function modelMatches(pattern: string, model: string): boolean {
  return pattern.endsWith('*') ? model.startsWith(pattern.slice(0, -1)) : model === pattern;
}

/** Whether a key with these model patterns may use `model`; an empty list allows every model. */
export function modelAllowed(patterns: readonly string[], model: string): boolean {
  return patterns.length === 0 || patterns.some((pattern) => modelMatches(pattern, model));
}

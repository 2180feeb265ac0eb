/** The value of a JSON text, or undefined when the text is not JSON (an empty text included). */
export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

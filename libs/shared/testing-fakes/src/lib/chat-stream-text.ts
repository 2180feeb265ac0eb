/** A streamed chat chunk as far as its text goes (what the OpenAI SDK yields, read structurally). */
export interface TextChunk {
  choices: Array<{ delta: { content?: string | null } }>;
}

/** The text of a streamed chat answer, read to its end (the first choice of each chunk). */
export async function streamedText(stream: AsyncIterable<TextChunk>): Promise<string> {
  const pieces: string[] = [];
  for await (const chunk of stream) {
    pieces.push(chunk.choices[0]?.delta.content ?? '');
  }
  return pieces.join('');
}

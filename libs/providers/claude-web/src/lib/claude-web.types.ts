/** claude.ai web API shapes: what the bridge sends and reads (docs/legacy-routes.md). */

export interface AppendMessageBody {
  completion: { prompt: string; timezone: string; model: string };
  organization_uuid: string;
  conversation_uuid: string;
  text: string;
  attachments: unknown[];
}

/** One `data:` event of append_message: `completion` is a delta; the last one has a `stop_reason`. */
export interface CompletionEvent {
  completion?: string;
  stop_reason?: string | null;
  model?: string;
  error?: { type?: string; message?: string };
}

export interface ConversationSummary {
  uuid: string;
  name?: string;
}

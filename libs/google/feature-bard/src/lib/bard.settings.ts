/** Injection token for BardSettings. */
export const BARD_SETTINGS = Symbol('BARD_SETTINGS');

export interface BardSettings {
  /** `BARD_BASE` (Bard's web endpoints now live at gemini.google.com). */
  bardBase: string;
  /** How long a scraped `at`/`bl` pair is reused for the same cookies. */
  tokenTtlMs: number;
  /** How long a conversation's ids are kept for follow-ups. */
  conversationTtlMs: number;
}

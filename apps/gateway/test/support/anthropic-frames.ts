// Test helpers for the fake Anthropic upstream.
export { anthropicError, fakeAnthropicMessages, sse } from '@openai-proxy/testing-fakes';
export { encodeSseEvent as encodeSseEventForTest } from '@openai-proxy/util-sse';

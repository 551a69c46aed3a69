// What an upstream model accepts, stored as data on its mapping (docs/providers.md §7) and editable through
// the admin API. Every flag is optional; the defaults below are the conservative ones.
export type Capabilities = {
  // Anthropic: the API version sent; 2026-10-21 refuses sampling parameters.
  anthropic_version?: '2023-06-01' | '2026-10-21'
  // May temperature / top_p / top_k be sent (newer Claude models refuse them).
  sampling?: boolean
  // How the model thinks: not at all, with a token budget, adaptively, or always (cannot be disabled).
  thinking?: 'none' | 'budget' | 'adaptive' | 'always'
  // Anthropic: a system message after the first turn stays in place instead of joining `system`.
  mid_conversation_system?: boolean
  // max_tokens when the client sends none (Anthropic requires one).
  default_max_tokens?: number
  // Gemini: the API version in the URL when the base URL has none.
  gemini_api_version?: 'v1beta' | 'v1'
  // Gemini embeddings: the task type sent with every input.
  embedding_task_type?: string
}

export const DEFAULT_MAX_TOKENS = 4096

export function capabilitiesOf(value: unknown): Capabilities {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Capabilities) : {}
}

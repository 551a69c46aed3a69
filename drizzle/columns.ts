// The shapes of the jsonb columns in schema.ts. The database owns them; the code that reads them imports
// them from here, so the schema depends on nothing in src/.

// providers.circuit: the admin API's snake_case names, only those set (src/upstream/circuit.ts reads them).
export type CircuitOverrides = {
  threshold?: number
  window_ms?: number
  failure_ratio?: number
  cooldown_ms?: number
}

// model_mappings.capabilities: what an upstream model accepts, editable through the admin API
// (docs/providers.md §7). Every flag is optional; the defaults are the conservative ones.
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
  // Gemini embeddings: the task type sent with every input.
  embedding_task_type?: string
}

// Gemini's thought signatures (Gemini 3 refuses a function-call turn without its signature) ride inside
// the call_id of a translated function_call: Responses clients (Codex, the Agents SDK) echo call_id
// verbatim in the next turn's function_call and function_call_output items, and keep no unknown field.
// Only the gateway reads it back; OpenAI-protocol targets get the client's items as sent.
const MARK = '.gts.'

type Call = { id?: unknown; extra_content?: unknown }

export function callIdOf(call: Call, fallback: string): string {
  const id = typeof call.id === 'string' && call.id ? call.id : fallback
  const google = (call.extra_content as { google?: { thought_signature?: unknown } } | undefined)?.google
  const signature = google?.thought_signature
  return typeof signature === 'string' && signature ? `${id}${MARK}${signature}` : id
}

// The hub's form of a call_id the gateway made: the tool call's extra_content carrying the signature.
export function extraContentOf(callId: string): { extra_content?: unknown } {
  const at = callId.indexOf(MARK)
  return at < 0 ? {} : { extra_content: { google: { thought_signature: callId.slice(at + MARK.length) } } }
}

// Anthropic accepts tool ids matching ^[a-zA-Z0-9_-]+$ only. A valid id is kept; any other becomes a
// valid one with a short hash of the original (so two ids never collide), the same way on every turn.
const VALID = /^[a-zA-Z0-9_-]+$/

// FNV-1a, 32 bits: synchronous (the request is built without awaiting) and stable across isolates.
function shortHash(text: string): string {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h.toString(16).padStart(8, '0').slice(0, 4)
}

export function toolId(id: string): string {
  if (VALID.test(id)) return id
  return `${id.replace(/[^a-zA-Z0-9_-]/g, '_')}_${shortHash(id)}`
}

// Upstream text relayed to a client (an error message about its request) must not carry a credential:
// an upstream that echoes the key it received would hand the provider key to whoever holds a virtual
// key. The provider's own key is removed wherever it appears, and so is anything shaped like one.
const SHAPES: [RegExp, string][] = [
  [/\bBearer\s+[^\s"',;]+/gi, 'Bearer [redacted]'],
  [/\bsk-[A-Za-z0-9_-]{6,}/g, 'sk-[redacted]'],
  [/\blgw_[A-Za-z0-9]{8,}/g, 'lgw_[redacted]'],
  [/\bAIza[0-9A-Za-z_-]{20,}/g, '[redacted]'],
]

export function redactSecrets(text: string, knownSecrets: readonly (string | undefined)[] = []): string {
  let out = removeSecrets(text, knownSecrets)
  for (const [pattern, replacement] of SHAPES) out = out.replace(pattern, replacement)
  return out
}

// Only the given secrets (and their JSON-escaped form), never by shape: for bodies relayed as they came
// (a reply may legitimately quote something that looks like a key; it may not quote the key we sent).
export function removeSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text
  for (const secret of secrets) {
    if (!secret || secret.length < 8) continue
    if (out.includes(secret)) out = out.split(secret).join('[redacted]')
    const escaped = JSON.stringify(secret).slice(1, -1)
    if (escaped !== secret && out.includes(escaped)) out = out.split(escaped).join('[redacted]')
  }
  return out
}

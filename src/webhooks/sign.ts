// x-nexusai-signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the webhook's secret>.
// Signing the timestamp with the body lets a receiver refuse replays of an old delivery.
const encoder = new TextEncoder()

async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  )
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(message)))
  return [...mac].map((b) => b.toString(16).padStart(2, '0')).join('')
}

export async function signatureHeader(secret: string, body: string, atMs: number): Promise<string> {
  const t = Math.floor(atMs / 1000)
  return `t=${t},v1=${await hmacHex(secret, `${t}.${body}`)}`
}

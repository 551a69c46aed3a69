import { OpenAIError } from '../errors'

// Where a provider's base_url may point. Link-local and cloud metadata addresses never (they hand out
// instance credentials); loopback and private ranges only when the deployment says it is local
// (ALLOW_PRIVATE_UPSTREAMS, which `npm run dev` and the tests set). Only literal addresses and known
// names are recognised: Workers cannot resolve DNS before fetch, so a public name that resolves to a
// private address is not caught here (Cloudflare's own egress does not reach private networks).
const METADATA_NAMES = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.azure.internal',
  'instance-data',
  'instance-data.ec2.internal',
])
const METADATA_ADDRESSES = new Set(['169.254.169.254', '100.100.100.200', 'fd00:ec2::254'])

type Kind = 'public' | 'private' | 'forbidden'

function ipv4Kind(address: string): Kind | null {
  const parts = address.split('.').map(Number)
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return null
  const [a, b] = parts as [number, number, number, number]
  if (a === 0 || (a === 169 && b === 254)) return 'forbidden'
  if (a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'private'
  if (a === 100 && b >= 64 && b <= 127) return 'private' // carrier-grade NAT
  return 'public'
}

function ipv6Kind(address: string): Kind {
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(address)
  if (mapped) {
    const [hi, lo] = [parseInt(mapped[1]!, 16), parseInt(mapped[2]!, 16)]
    return ipv4Kind(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`) ?? 'forbidden'
  }
  if (address === '::' || /^fe[89ab]/.test(address)) return 'forbidden'
  if (address === '::1' || /^f[cd]/.test(address)) return 'private'
  return 'public'
}

export function upstreamAddressKind(baseUrl: string): Kind {
  const host = new URL(baseUrl).hostname.toLowerCase().replace(/\.$/, '')
  const bare = host.startsWith('[') ? host.slice(1, -1) : host
  if (METADATA_NAMES.has(bare) || METADATA_ADDRESSES.has(bare)) return 'forbidden'
  if (host.startsWith('[')) return ipv6Kind(bare)
  if (bare === 'localhost' || bare.endsWith('.localhost')) return 'private'
  return ipv4Kind(bare) ?? 'public'
}

export function checkUpstreamAddress(baseUrl: string, allowPrivate: boolean): void {
  const kind = upstreamAddressKind(baseUrl)
  if (kind === 'public' || (kind === 'private' && allowPrivate)) return
  throw new OpenAIError(
    'invalid_request_error',
    kind === 'forbidden'
      ? "Invalid value for 'base_url': link-local and cloud metadata addresses are not allowed."
      : "Invalid value for 'base_url': loopback and private addresses are only allowed on a local deployment (ALLOW_PRIVATE_UPSTREAMS=true).",
    'base_url',
  )
}

// Where the gateway may send a request it builds from stored data (a provider's base_url, a webhook's
// url). Link-local, cloud metadata, multicast and reserved addresses never (metadata services hand out
// instance credentials); loopback and private ranges only on a local deployment (ALLOW_PRIVATE_UPSTREAMS,
// which `npm run dev` and the tests set). Only literal addresses and known names are recognised: Workers
// cannot resolve DNS before fetch, so a public name that resolves to a private address is not caught
// here (Cloudflare's own egress does not reach private networks).
const METADATA_NAMES = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.azure.internal',
  'metadata.tencentyun.com',
  'instance-data',
  'instance-data.ec2.internal',
])
// AWS and GCP (169.254.169.254, also link-local), Alibaba (100.100.100.200), Oracle (192.0.0.192), AWS IPv6.
const METADATA_V4 = new Set(['169.254.169.254', '100.100.100.200', '192.0.0.192'])
const METADATA_V6 = new Set(['fd00:ec2:0:0:0:0:0:254'])

export type AddressKind = 'public' | 'private' | 'forbidden'

type V4 = [number, number, number, number]

function parseIpv4(address: string): V4 | null {
  const parts = address.split('.')
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return null
  return parts.map(Number) as V4
}

function ipv4Kind([a, b, c, d]: V4): AddressKind {
  if (METADATA_V4.has(`${a}.${b}.${c}.${d}`)) return 'forbidden'
  // "This network", link-local, multicast (224/4), reserved (240/4) and the broadcast address.
  if (a === 0 || (a === 169 && b === 254) || a >= 224) return 'forbidden'
  if (a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'private'
  if (a === 100 && b >= 64 && b <= 127) return 'private' // carrier-grade NAT
  if (a === 198 && (b === 18 || b === 19)) return 'private' // benchmarking networks
  if (a === 192 && b === 0 && c === 0) return 'private' // IETF protocol assignments (DS-Lite, NAT64 …)
  return 'public'
}

// The eight 16-bit groups of an IPv6 address as the URL parser writes it (compressed, lower case, an
// embedded IPv4 already turned into hex), or null.
function parseIpv6(address: string): number[] | null {
  const halves = address.split('::')
  if (halves.length > 2) return null
  const groups = (part: string) => (part === '' ? [] : part.split(':'))
  const head = groups(halves[0]!)
  const tail = halves.length === 2 ? groups(halves[1]!) : []
  const missing = 8 - head.length - tail.length
  if ((halves.length === 2 && missing < 1) || (halves.length === 1 && missing !== 0)) return null
  const all = [...head, ...Array<string>(missing).fill('0'), ...tail]
  if (!all.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null
  return all.map((g) => parseInt(g, 16))
}

const v4Of = (hi: number, lo: number): V4 => [hi >> 8, hi & 255, lo >> 8, lo & 255]
const worst = (...kinds: AddressKind[]): AddressKind =>
  kinds.includes('forbidden') ? 'forbidden' : kinds.includes('private') ? 'private' : 'public'

function ipv6Kind(g: number[]): AddressKind {
  const text = g.map((x) => x.toString(16)).join(':')
  if (METADATA_V6.has(text)) return 'forbidden'
  const zero = (from: number, to: number) => g.slice(from, to).every((x) => x === 0)
  if (zero(0, 8)) return 'forbidden' // unspecified
  if (zero(0, 7) && g[7] === 1) return 'private' // loopback
  // IPv4 inside IPv6: compatible (::a.b.c.d), mapped (::ffff:a.b.c.d), translated (::ffff:0:a.b.c.d)
  // and NAT64 (64:ff9b::/96, and the local-use 64:ff9b:1::/48, which is never public) reach the
  // IPv4 address they carry.
  if (zero(0, 6) || (zero(0, 5) && g[5] === 0xffff) || (zero(0, 4) && g[4] === 0xffff && g[5] === 0))
    return ipv4Kind(v4Of(g[6]!, g[7]!))
  if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) return ipv4Kind(v4Of(g[6]!, g[7]!))
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return worst('private', ipv4Kind(v4Of(g[6]!, g[7]!)))
  // 6to4 (2002::/16) carries an IPv4 address in bits 16-47; Teredo (2001::/32) its server's in bits
  // 32-63 and its client's, inverted, in the last 32.
  if (g[0] === 0x2002) return ipv4Kind(v4Of(g[1]!, g[2]!))
  if (g[0] === 0x2001 && g[1] === 0)
    return worst(ipv4Kind(v4Of(g[2]!, g[3]!)), ipv4Kind(v4Of(~g[6]! & 0xffff, ~g[7]! & 0xffff)))
  const top = g[0]!
  if (top >> 8 === 0xff) return 'forbidden' // multicast
  if ((top & 0xffc0) === 0xfe80) return 'forbidden' // link-local
  if ((top & 0xffc0) === 0xfec0) return 'private' // site-local (deprecated, still routed privately)
  if ((top & 0xfe00) === 0xfc00) return 'private' // unique local
  if (top === 0x100 && zero(1, 4)) return 'forbidden' // discard-only
  return 'public'
}

// The kind of address a URL names. The URL parser has already normalised the host: IPv4 in any
// notation (2130706433, 0x7f.1) becomes dotted decimal, IPv6 is compressed, lower case and in hex.
export function addressKind(url: string): AddressKind {
  const host = new URL(url).hostname.toLowerCase().replace(/\.$/, '')
  if (host.startsWith('[')) return ipv6Kind(parseIpv6(host.slice(1, -1)) ?? [0, 0, 0, 0, 0, 0, 0, 0])
  if (METADATA_NAMES.has(host)) return 'forbidden'
  if (host === 'localhost' || host.endsWith('.localhost')) return 'private'
  const v4 = parseIpv4(host)
  return v4 ? ipv4Kind(v4) : 'public'
}

// Whether a URL stored while the deployment was local (or before a range was added here) may still be
// called now.
export function addressAllowed(url: string, allowPrivate: boolean): boolean {
  if (!URL.canParse(url)) return false
  const kind = addressKind(url)
  return kind === 'public' || (kind === 'private' && allowPrivate)
}

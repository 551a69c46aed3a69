import { describe, expect, it } from 'vitest'
import { addressKind } from '../../src/lib/address'

// Where a stored base_url or webhook url may point, read from the host as the URL parser normalises it.
describe('addressKind', () => {
  const cases: [string, 'public' | 'private' | 'forbidden'][] = [
    // IPv4 in IPv6: compatible, mapped, translated, NAT64 (well-known and local-use), 6to4, Teredo.
    ['http://[::127.0.0.1]/v1', 'private'],
    ['http://[::ffff:127.0.0.1]/v1', 'private'],
    ['http://[::ffff:0:7f00:1]/v1', 'private'],
    ['http://[64:ff9b::7f00:1]/v1', 'private'],
    ['http://[64:ff9b::169.254.169.254]/v1', 'forbidden'],
    ['http://[64:ff9b:1::a00:1]/v1', 'private'],
    ['http://[2002:7f00:1::]/v1', 'private'],
    ['http://[2002:a9fe:a9fe::1]/v1', 'forbidden'],
    ['http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/v1', 'private'], // Teredo client 127.0.0.1
    ['http://[::a9fe:a9fe]/v1', 'forbidden'],
    // IPv6 ranges.
    ['http://[fec0::1]/v1', 'private'],
    ['http://[fc00::1]/v1', 'private'],
    ['http://[fe80::1]/v1', 'forbidden'],
    ['http://[ff02::1]/v1', 'forbidden'],
    ['http://[::]/v1', 'forbidden'],
    ['http://[::1]/v1', 'private'],
    ['http://[fd00:ec2::254]/v1', 'forbidden'],
    // IPv4 ranges, in any notation the URL parser accepts.
    ['http://198.18.0.1/v1', 'private'],
    ['http://198.19.255.255/v1', 'private'],
    ['http://224.0.0.1/v1', 'forbidden'],
    ['http://239.255.255.250/v1', 'forbidden'],
    ['http://255.255.255.255/v1', 'forbidden'],
    ['http://240.0.0.1/v1', 'forbidden'],
    ['http://192.0.0.192/v1', 'forbidden'],
    ['http://192.0.0.8/v1', 'private'],
    ['http://2130706433/v1', 'private'],
    ['http://0x7f.1/v1', 'private'],
    ['http://metadata.tencentyun.com/v1', 'forbidden'],
    ['http://METADATA.google.internal./v1', 'forbidden'],
    // Public stays public, IPv4 carried in IPv6 included.
    ['https://api.openai.com/v1', 'public'],
    ['https://8.8.8.8/v1', 'public'],
    ['https://198.20.0.1/v1', 'public'],
    ['https://[2606:4700:4700::1111]/v1', 'public'],
    ['https://[64:ff9b::808:808]/v1', 'public'],
    ['https://[2002:808:808::]/v1', 'public'],
  ]
  for (const [url, kind] of cases) {
    it(`${url} is ${kind}`, () => expect(addressKind(url)).toBe(kind))
  }
})

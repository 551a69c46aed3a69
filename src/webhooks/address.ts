import { addressKind } from '../lib/address'

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/

// Why the gateway may not post to a webhook url, or null: https, never a link-local, metadata,
// multicast or reserved address; a loopback or private one (and then plain http to loopback) only on a
// local deployment. Checked when the admin API writes the url and again before every delivery.
export function webhookUrlProblem(url: string, local: boolean): string | null {
  if (!URL.canParse(url)) return 'must be a URL.'
  const kind = addressKind(url)
  if (kind === 'forbidden')
    return 'link-local, cloud metadata, multicast and reserved addresses are not allowed.'
  if (kind === 'private' && !local)
    return 'loopback and private addresses are only allowed on a local deployment (ALLOW_PRIVATE_UPSTREAMS=true).'
  const { protocol, hostname } = new URL(url)
  if (protocol === 'https:' || (local && protocol === 'http:' && LOOPBACK.test(hostname))) return null
  return local
    ? 'must be https, or http to a loopback address (localhost, 127.x.x.x, [::1]).'
    : 'must be https.'
}

import { GatewayError } from '../errors'
import { addressKind } from '../lib/address'

// A provider's base_url as the admin API writes it (the rules: src/lib/address.ts). Rows written while
// the deployment was local are checked again when routed (src/upstream/targets.ts).
export function checkUpstreamAddress(baseUrl: string, allowPrivate: boolean): void {
  const kind = addressKind(baseUrl)
  if (kind === 'public' || (kind === 'private' && allowPrivate)) return
  throw new GatewayError({
    code: 'invalid_request_error',
    message:
      kind === 'forbidden'
        ? "Invalid value for 'base_url': link-local, cloud metadata, multicast and reserved addresses are not allowed."
        : "Invalid value for 'base_url': loopback and private addresses are only allowed on a local deployment (ALLOW_PRIVATE_UPSTREAMS=true).",
    param: 'base_url',
  })
}

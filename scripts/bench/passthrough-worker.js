// The floor of the runtime: a bare Worker that forwards the request to the mock upstream and returns
// its response as is (streaming included), with nothing else on the path. Served by the bench exactly
// like the gateway bundle (same workerd, same compatibility date and flags). Paths under /probe/ go to
// the bench's probe upstream instead, for the latency breakdown.
export default {
  async fetch(request, env) {
    const url = new URL(request.url)
    const headers = new Headers()
    for (const name of ['content-type', 'authorization', 'accept']) {
      const value = request.headers.get(name)
      if (value !== null) headers.set(name, value)
    }
    const target = url.pathname.startsWith('/probe/')
      ? env.PROBE_ORIGIN + url.pathname.slice('/probe'.length)
      : env.UPSTREAM_ORIGIN + url.pathname
    return fetch(target + url.search, { method: request.method, headers, body: request.body })
  },
}

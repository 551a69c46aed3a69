// Sits in front of the gateway inside the same workerd (service binding GATEWAY) and forwards every
// request. GET /__disconnect?id=X cancels the forwarded request sent with `x-disconnect-id: X`, which
// the gateway sees exactly as a client leaving on the edge: its handler is cancelled mid-flight and
// request.signal aborts.
const pending = new Map()

export default {
  async fetch(request, env) {
    const url = new URL(request.url)
    if (url.pathname === '/__disconnect') {
      const controller = pending.get(url.searchParams.get('id'))
      controller?.abort()
      return new Response(null, { status: controller ? 204 : 404 })
    }
    const id = request.headers.get('x-disconnect-id')
    if (!id) return env.GATEWAY.fetch(request)
    const controller = new AbortController()
    pending.set(id, controller)
    try {
      return await env.GATEWAY.fetch(request, { signal: controller.signal })
    } catch {
      return new Response(null, { status: 499 })
    } finally {
      pending.delete(id)
    }
  },
}

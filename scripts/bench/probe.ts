// A tiny OpenAI-shaped upstream for counting store round trips: the moment a chat request reaches it,
// every store call the gateway made *before* the upstream call has already reached the local Neon and
// Upstash endpoints, so `onArrive` samples their counters at exactly the right instant.
import http from 'node:http'
import type { AddressInfo } from 'node:net'

// Times are performance.now() of this process: the bench's own client shares the clock.
export type Probe = {
  url: string
  arrivals: number
  lastArrivedAt: number
  lastRespondedAt: number
  close(): Promise<void>
}

export async function startProbe(onArrive: () => void): Promise<Probe> {
  const state = { arrivals: 0, lastArrivedAt: 0, lastRespondedAt: 0 }
  const server = http.createServer({ noDelay: true }, (req, res) => {
    if (req.method === 'POST' && req.url?.endsWith('/chat/completions')) {
      state.lastArrivedAt = performance.now()
      onArrive()
      state.arrivals++
    }
    req.resume()
    req.on('end', () => {
      const body = JSON.stringify({
        id: 'chatcmpl-probe',
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: 'gpt-4o-mini',
        choices: [
          { index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop', logprobs: null },
        ],
        usage: { prompt_tokens: 8, completion_tokens: 1, total_tokens: 9 },
      })
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
      state.lastRespondedAt = performance.now()
      res.end(body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    get arrivals() {
      return state.arrivals
    },
    get lastArrivedAt() {
      return state.lastArrivedAt
    },
    get lastRespondedAt() {
      return state.lastRespondedAt
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Scenario } from './scenario.ts'

// One request to a mock upstream, as every protocol handler sees it.
export type Call = {
  req: IncomingMessage
  res: ServerResponse
  method: string
  apiPath: string
  // The scenario string from the path ('default' without one): one provider (account) of the mock.
  scenario: string
  query: { get(k: string): string | undefined }
  body: unknown
  parseError: boolean
  sc: Scenario
  // Set when the mock cuts the connection on purpose (not counted as a client abort).
  state: { cutByUs: boolean }
  latencyMs: number
}

// A protocol the mock speaks: which paths are its own, how it answers them and how it reports a fault.
export type ProtocolMock = {
  owns(apiPath: string, method: string): boolean
  handle(call: Call): Promise<void> | void
  sendStatus(call: Call, status: number): void
}

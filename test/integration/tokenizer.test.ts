// When the upstream reports no usage, the usage row is counted with OpenAI's tokenizer for the serving
// model's family (o200k_base or cl100k_base), not ~4 characters a token. Expected counts are the
// encodings' own (checked with gpt-tokenizer), chosen so that the character estimate differs from both.
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { modelMappings } from '../../drizzle/schema'
import { chatRequest, gateway, keyedPost, testDb, uid } from '../helpers/gateway'
import { createKey, createModel, createProvider, onlyRow } from '../helpers/fixtures'

const SYSTEM = 'You are a helpful assistant.'
const TEXT = 'Tokenizers split 東京タワー and 🚀🚀🚀 differently from ASCII words: supercalifragilistic.'
const messages = [
  { role: 'system', content: SYSTEM },
  { role: 'user', content: TEXT },
]
// 3 + (3 + "system" + SYSTEM) + (3 + "user" + TEXT):
// o200k_base 3+(3+1+6)+(3+1+26), cl100k_base 3+(3+1+6)+(3+1+32).
const PROMPT = { o200k_base: 43, cl100k_base: 49 }
// ~4 characters a token: 3 + (4 + 7) + (4 + 22).
const CHARS_ESTIMATE = 40

// A model on a provider whose upstream never reports usage, routed to `upstreamModel`.
async function silentModel(upstreamModel: string, scenario = 'nousage') {
  const provider = await createProvider({ scenario: `${scenario}~${uid()}` })
  const model = await createModel([provider.id], { input: '1', output: '2' })
  await testDb().update(modelMappings).set({ upstreamModel }).where(eq(modelMappings.model, model))
  const key = await createKey({ models: [model] })
  return { model, key }
}

describe('tokens counted when the upstream reports none', () => {
  it('counts a chat completion with o200k_base for a gpt-4o upstream', async () => {
    const { model, key } = await silentModel('gpt-4o-mini')
    const res = await gateway('/v1/chat/completions', keyedPost(key.raw, { model, messages }))
    expect(res.status).toBe(200)
    const row = await onlyRow(key.id)
    expect(row).toMatchObject({
      tokensEstimated: true,
      tokensMethod: 'o200k_base',
      promptTokens: PROMPT.o200k_base,
      // "Hello from mock upstream." is 5 tokens.
      completionTokens: 5,
    })
    expect(row.promptTokens).not.toBe(CHARS_ESTIMATE)
    // $1 and $2 per 1M tokens: (43 × 1 + 5 × 2) micro-dollars.
    expect(Number(row.costUsd)).toBeCloseTo(53e-6, 12)
  })

  it('counts with cl100k_base for a gpt-4 upstream', async () => {
    const { model, key } = await silentModel('gpt-4-0613')
    expect((await gateway('/v1/chat/completions', keyedPost(key.raw, { model, messages }))).status).toBe(200)
    const row = await onlyRow(key.id)
    expect(row).toMatchObject({ tokensMethod: 'cl100k_base', promptTokens: PROMPT.cl100k_base })
  })

  it('counts what a cut stream delivered before it broke', async () => {
    // The mock cuts the connection after 3 chunks (the role, "Hello", " from") and never sends usage.
    const { model, key } = await silentModel('gpt-4o', 'cut3+nousage')
    const res = await gateway('/v1/chat/completions', keyedPost(key.raw, { model, messages, stream: true }))
    expect(res.status).toBe(200)
    const body = await res.text()
    expect(body).toContain('"error"')
    const received = body
      .split('\n')
      .filter((line) => line.startsWith('data: {"id"'))
      .map((line) => JSON.parse(line.slice(6)).choices[0]?.delta?.content ?? '')
      .join('')
    expect(received).toBe('Hello from')
    const row = await onlyRow(key.id)
    expect(row).toMatchObject({
      status: 502,
      errorCode: 'upstream_stream_broken',
      tokensMethod: 'o200k_base',
      promptTokens: PROMPT.o200k_base,
      // "Hello from" is 2 tokens.
      completionTokens: 2,
    })
  })

  it('counts embedding inputs', async () => {
    const { model, key } = await silentModel('text-embedding-3-small')
    const res = await gateway('/v1/embeddings', keyedPost(key.raw, { model, input: [TEXT, 'hello gateway'] }))
    expect(res.status).toBe(200)
    const row = await onlyRow(key.id)
    // cl100k_base: 32 + 2 (the character estimate would say 22 + 4).
    expect(row).toMatchObject({ tokensMethod: 'cl100k_base', promptTokens: 34, completionTokens: 0 })
  })

  it('leaves rows with upstream usage as the upstream reported them', async () => {
    const provider = await createProvider()
    const model = await createModel([provider.id])
    const key = await createKey({ models: [model] })
    expect((await gateway('/v1/chat/completions', chatRequest(key.raw, model))).status).toBe(200)
    const row = await onlyRow(key.id)
    expect(row).toMatchObject({ tokensEstimated: false, tokensMethod: null })
  })
})

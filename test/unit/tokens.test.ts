import { describe, expect, it } from 'vitest'
import {
  completionAllowance,
  estimateChatPromptTokens,
  estimateEmbeddingTokens,
  estimateRequest,
} from '../../src/usage/tokens'

describe('token estimates', () => {
  it.each([
    [[{ content: 'hi' }], 3 + 4 + 1],
    [[{ content: 'x'.repeat(40) }, { content: null }], 3 + 4 + 10 + 4],
    [[{ content: [{ type: 'text', text: 'abcd' }, { type: 'image_url' }] }], 3 + 4 + 1],
  ])('prompt of %j is %i tokens', (messages, tokens) =>
    expect(estimateChatPromptTokens(messages)).toBe(tokens),
  )

  it.each([
    ['abcdefgh', 2],
    [['ab', 'cd'], 2],
    [[1, 2, 3], 3],
    [[[1, 2], [3]], 3],
  ])('embedding input %j is %i tokens', (input, tokens) =>
    expect(estimateEmbeddingTokens(input)).toBe(tokens),
  )

  it('reserves max_completion_tokens, then max_tokens, then the default, times n', () => {
    expect(completionAllowance({ max_completion_tokens: 10, max_tokens: 20 })).toBe(10)
    expect(completionAllowance({ max_tokens: 20, n: 2 })).toBe(40)
    expect(completionAllowance({})).toBe(256)
    expect(estimateRequest('embeddings', { input: 'abcd' })).toEqual({ prompt: 1, completion: 0 })
  })
})

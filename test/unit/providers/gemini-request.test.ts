import { describe, expect, it } from 'vitest'
import { gemini } from '../../../src/upstream/providers/gemini'
import { embeddingsBody } from '../../../src/upstream/providers/gemini/embeddings'
import { geminiBody } from '../../../src/upstream/providers/gemini/request'
import { RequestRejected } from '../../../src/upstream/providers/types'
import chatWeather from '../../fixtures/openai/chat-weather.json'
import { target } from '../../helpers/target'

// OpenAI chat and embeddings requests → the Gemini API body (docs/providers.md §2.2, §2.3, §2.7), from a
// recorded OpenAI SDK request with tools, an image, parallel tool calls (one carrying its thought
// signature) and their results.
type Json = Record<string, unknown>
const flash = (caps = {}) => target('gemini', caps)
const body = (b: Json, caps = {}) => geminiBody(flash(caps), b)
const user = (content: unknown = 'hi') => ({ role: 'user', content })
const weather = chatWeather as Json

describe('OpenAI chat → Gemini generateContent request', () => {
  it('translates the recorded tool-loop request whole', () => {
    expect(body({ ...weather, reasoning_effort: 'low' })).toEqual({
      systemInstruction: { parts: [{ text: 'You are terse.' }] },
      contents: [
        {
          role: 'user',
          parts: [
            { text: 'Weather in Paris and Rome? Also describe the image.' },
            { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
          ],
        },
        {
          role: 'model',
          parts: [
            // The first call carries its signature back; the second had none and needs none.
            { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'CiQB' },
            { functionCall: { name: 'get_weather', args: { city: 'Rome' } } },
          ],
        },
        {
          role: 'user',
          parts: [
            { functionResponse: { name: 'get_weather', response: { output: '21C' } } },
            { functionResponse: { name: 'get_weather', response: { output: '24C' } } },
            { text: 'Thanks. Now summarise.' },
          ],
        },
      ],
      tools: [
        {
          functionDeclarations: [
            {
              name: 'get_weather',
              description: 'Current weather',
              parametersJsonSchema: {
                type: 'object',
                properties: { city: { type: 'string' } },
                required: ['city'],
                additionalProperties: false,
              },
            },
          ],
        },
      ],
      toolConfig: { functionCallingConfig: { mode: 'AUTO' } },
      generationConfig: {
        temperature: 1.4,
        maxOutputTokens: 512,
        stopSequences: ['END', ' '],
        thinkingConfig: { thinkingLevel: 'LOW' },
      },
    })
  })

  it.each([
    [
      'chat → generateContent',
      { route: 'chat', stream: false },
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-3.5-flash:generateContent',
    ],
    [
      'a stream → streamGenerateContent?alt=sse',
      { route: 'chat', stream: true },
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-3.5-flash:streamGenerateContent?alt=sse',
    ],
    [
      'embeddings → batchEmbedContents',
      { route: 'embeddings', stream: false },
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-3.5-flash:batchEmbedContents',
    ],
  ] as const)('%s, the key in x-goog-api-key and never in the URL', (_, exchange, url) => {
    const request = gemini.buildRequest(target('gemini', {}, { upstreamModel: 'models/gemini-3.5-flash' }), {
      ...exchange,
      body: exchange.route === 'chat' ? { messages: [user()] } : { input: 'hi' },
      model: 'flash',
    })
    expect(request.url).toBe(url)
    expect(request.headers.get('x-goog-api-key')).toBe('sk-upstream')
    expect(request.url).not.toContain('sk-upstream')
  })

  it('a function-call turn Gemini did not produce gets the documented skip value on its first call only', () => {
    const out = body({
      messages: [
        user(),
        {
          role: 'assistant',
          content: 'Let me look.',
          tool_calls: [
            { id: 'a', type: 'function', function: { name: 'f', arguments: '' } },
            { id: 'b', type: 'function', function: { name: 'g', arguments: '{"x":1}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'a', content: '{"ok":true}' },
        { role: 'tool', tool_call_id: 'b', content: '[1,2]' },
      ],
    })
    expect(out.contents).toEqual([
      { role: 'user', parts: [{ text: 'hi' }] },
      {
        role: 'model',
        parts: [
          { text: 'Let me look.' },
          { functionCall: { name: 'f', args: {} }, thoughtSignature: 'skip_thought_signature_validator' },
          { functionCall: { name: 'g', args: { x: 1 } } },
        ],
      },
      {
        role: 'user',
        parts: [
          // A JSON object result is passed as the response; anything else is wrapped as { output }.
          { functionResponse: { name: 'f', response: { ok: true } } },
          { functionResponse: { name: 'g', response: { output: '[1,2]' } } },
        ],
      },
    ])
  })

  it('every system or developer message goes to systemInstruction, wherever it stands', () => {
    const out = body({
      messages: [
        { role: 'system', content: 'One.' },
        user('a'),
        { role: 'developer', content: [{ type: 'text', text: 'Two.' }] },
        { role: 'assistant', content: 'b' },
      ],
    })
    expect(out.systemInstruction).toEqual({ parts: [{ text: 'One.' }, { text: 'Two.' }] })
    expect(out.contents).toEqual([
      { role: 'user', parts: [{ text: 'a' }] },
      { role: 'model', parts: [{ text: 'b' }] },
    ])
  })

  it.each([
    [
      'a data URL → inlineData',
      'data:image/webp;base64,UklG',
      { inlineData: { mimeType: 'image/webp', data: 'UklG' } },
    ],
    [
      'an https image → fileData by extension',
      'https://x.test/a/cat.PNG?v=1',
      { fileData: { fileUri: 'https://x.test/a/cat.PNG?v=1', mimeType: 'image/png' } },
    ],
    [
      'an https PDF → fileData',
      'https://x.test/doc.pdf',
      { fileData: { fileUri: 'https://x.test/doc.pdf', mimeType: 'application/pdf' } },
    ],
    [
      'an unknown extension → JPEG',
      'https://x.test/image',
      { fileData: { fileUri: 'https://x.test/image', mimeType: 'image/jpeg' } },
    ],
  ])('images: %s', (_, url, part) => {
    const out = body({ messages: [user([{ type: 'image_url', image_url: { url } }])] })
    expect(out.contents).toEqual([{ role: 'user', parts: [part] }])
  })

  it('a PDF file part → inlineData', () => {
    const out = body({
      messages: [user([{ type: 'file', file: { file_data: 'data:application/pdf;base64,JVBER' } }])],
    })
    expect(out.contents).toEqual([
      { role: 'user', parts: [{ inlineData: { mimeType: 'application/pdf', data: 'JVBER' } }] },
    ])
  })

  it.each([
    ['auto', 'auto', { functionCallingConfig: { mode: 'AUTO' } }],
    ['none', 'none', { functionCallingConfig: { mode: 'NONE' } }],
    ['required → ANY', 'required', { functionCallingConfig: { mode: 'ANY' } }],
    [
      'a named function → ANY with that name',
      { type: 'function', function: { name: 'f' } },
      { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['f'] } },
    ],
    ['none given → none sent', undefined, undefined],
  ])('tool_choice %s', (_, choice, toolConfig) => {
    const out = body({
      messages: [user()],
      tools: [{ type: 'function', function: { name: 'f' } }],
      tool_choice: choice,
    })
    expect(out.toolConfig).toEqual(toolConfig)
    // A function without parameters declares none.
    expect(out.tools).toEqual([{ functionDeclarations: [{ name: 'f' }] }])
  })

  it.each([
    ['none', {}, { thinkingLevel: 'MINIMAL' }],
    ['minimal', {}, { thinkingLevel: 'MINIMAL' }],
    ['medium', {}, { thinkingLevel: 'MEDIUM' }],
    ['xhigh', {}, { thinkingLevel: 'XHIGH' }],
    ['max', {}, { thinkingLevel: 'XHIGH' }],
    ['none', { thinking: 'budget' }, { thinkingBudget: 0 }],
    ['minimal', { thinking: 'budget' }, { thinkingBudget: 512 }],
    ['low', { thinking: 'budget' }, { thinkingBudget: 1024 }],
    ['medium', { thinking: 'budget' }, { thinkingBudget: 8192 }],
    ['high', { thinking: 'budget' }, { thinkingBudget: 24576 }],
  ] as const)('reasoning_effort %s with %o → %o', (effort, caps, config) => {
    expect(body({ messages: [user()], reasoning_effort: effort }, caps).generationConfig).toEqual({
      thinkingConfig: config,
    })
  })

  it('maps the generation settings and leaves out what is not set', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } } }
    expect(
      body({
        messages: [user()],
        top_p: 0.5,
        max_tokens: 64,
        stop: 'END',
        n: 2,
        seed: 7,
        presence_penalty: 0.1,
        frequency_penalty: 0.2,
        response_format: { type: 'json_schema', json_schema: { name: 'x', schema } },
        user: 'u-1',
        store: true,
      }).generationConfig,
    ).toEqual({
      topP: 0.5,
      maxOutputTokens: 64,
      stopSequences: ['END'],
      candidateCount: 2,
      seed: 7,
      presencePenalty: 0.1,
      frequencyPenalty: 0.2,
      responseMimeType: 'application/json',
      responseJsonSchema: schema,
    })
    expect(body({ messages: [user()], response_format: { type: 'json_object' } }).generationConfig).toEqual({
      responseMimeType: 'application/json',
    })
    expect(body({ messages: [user()] }, { default_max_tokens: 300 }).generationConfig).toEqual({
      maxOutputTokens: 300,
    })
    expect(body({ messages: [user()], n: 1 })).not.toHaveProperty('generationConfig')
  })

  it.each([
    [
      'an http:// URL',
      { messages: [user([{ type: 'image_url', image_url: { url: 'http://x.test/a.png' } }])] },
      'messages[0].content[0]',
    ],
    [
      'audio input',
      { messages: [user([{ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } }])] },
      'messages[0].content[0]',
    ],
    [
      'tool arguments that are not JSON',
      {
        messages: [
          user(),
          { role: 'assistant', tool_calls: [{ id: 'c', function: { name: 'f', arguments: '{' } }] },
        ],
      },
      'messages[1].tool_calls[0].function.arguments',
    ],
    [
      'a tool result that answers no call',
      { messages: [user(), { role: 'tool', tool_call_id: 'nope', content: 'x' }] },
      'messages[1].tool_call_id',
    ],
    ['an unknown role', { messages: [user(), { role: 'function', content: 'x' }] }, 'messages[1].role'],
    ['a system-only request', { messages: [{ role: 'system', content: 'x' }] }, 'messages'],
    [
      'a non-function tool',
      { messages: [user()], tools: [{ type: 'custom', custom: { name: 'x' } }] },
      'tools[0]',
    ],
  ])('refuses %s with a 400 naming the field', (_, request, param) => {
    let error: unknown
    try {
      body(request)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(RequestRejected)
    expect((error as RequestRejected).error).toMatchObject({ type: 'invalid_request_error', param })
  })
})

describe('OpenAI embeddings → Gemini batchEmbedContents request', () => {
  it('one request per input, in order, with the dimensions and the mapping’s task type', () => {
    const embed = target(
      'gemini',
      { embedding_task_type: 'RETRIEVAL_DOCUMENT' },
      { upstreamModel: 'gemini-embedding-001' },
    )
    expect(embeddingsBody(embed, { input: ['a', 'b'], dimensions: 4 })).toEqual({
      requests: [
        {
          model: 'models/gemini-embedding-001',
          content: { parts: [{ text: 'a' }] },
          outputDimensionality: 4,
          taskType: 'RETRIEVAL_DOCUMENT',
        },
        {
          model: 'models/gemini-embedding-001',
          content: { parts: [{ text: 'b' }] },
          outputDimensionality: 4,
          taskType: 'RETRIEVAL_DOCUMENT',
        },
      ],
    })
    expect(embeddingsBody(target('gemini'), { input: 'one' })).toEqual({
      requests: [{ model: 'models/gemini-3.5-flash', content: { parts: [{ text: 'one' }] } }],
    })
  })

  it.each([
    ['token ids', [1, 2, 3]],
    ['lists of token ids', [[1, 2]]],
  ])('refuses %s (Gemini embeds text only)', (_, input) => {
    expect(() => embeddingsBody(target('gemini'), { input })).toThrow(RequestRejected)
  })
})

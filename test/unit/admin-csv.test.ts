import { describe, expect, it } from 'vitest'
import { toCsv } from '../../src/admin/csv'

describe('toCsv', () => {
  const cases: [string, (string | number | null)[], string][] = [
    ['plain cells and numbers as they are', ['gpt-4o', 3, '0.000120000000'], 'gpt-4o,3,0.000120000000'],
    ['null as an empty cell', [null, 1], ',1'],
    [
      'commas, quotes and line breaks quoted with doubled quotes',
      ['a,b', 'say "hi"', 'x\ny'],
      '"a,b","say ""hi""","x\ny"',
    ],
    ['formula starters prefixed with a quote', ['=1+1', '+1', '-1', '@SUM(A1)'], "'=1+1,'+1,'-1,'@SUM(A1)"],
    ['a tab or carriage return at the start neutralized and quoted', ['\tx', '\rx'], `'\tx,"'\rx"`],
    ['negative numbers left alone (only strings are neutralized)', [-1], '-1'],
    [
      'formula starters after leading whitespace or a semicolon prefixed too',
      [' =1+1', '\n@SUM(A1)', 'a;=HYPERLINK("x")', 'b; +1'],
      `' =1+1,"'\n@SUM(A1)","'a;=HYPERLINK(""x"")",'b; +1`,
    ],
  ]
  for (const [what, row, line] of cases) {
    it(`writes ${what}`, () => {
      expect(toCsv(['h'], [row])).toBe(`h\r\n${line}\r\n`)
    })
  }

  it('writes just the header line when there are no rows', () => {
    expect(toCsv(['day', 'requests'], [])).toBe('day,requests\r\n')
  })
})

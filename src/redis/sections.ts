// How a script call's KEYS and ARGV are laid out: a sequence of sections, each some keys and some
// arguments, which the wrapper packs (Sections) and the script takes (TAKE) in the same order. No index
// arithmetic on either side: a feature that needs more in the same atomic step (an affinity pin, a
// balance) adds a section at the end of both, or a fixed entry to the scope layout (keys.ts SCOPE_KEYS).
export type Arg = string | number | bigint

export class Sections {
  readonly keys: string[] = []
  readonly args: string[] = []

  add(keys: readonly string[], args: readonly Arg[] = []): this {
    this.keys.push(...keys)
    for (const arg of args) this.args.push(String(arg))
    return this
  }
}

// take(nKeys, nArgs) returns the index of the next section's first key and first argument.
export const TAKE = `
local nextKey, nextArg = 1, 1
local function take(nKeys, nArgs)
  local k, a = nextKey, nextArg
  nextKey, nextArg = nextKey + nKeys, nextArg + nArgs
  return k, a
end
`

// A Lua table of 0-based offsets from a list of names: offsets(['a', 'b']) → "{a = 0, b = 1}".
export const offsets = (names: readonly string[]) =>
  `{${names.map((name, i) => `${name} = ${i}`).join(', ')}}`

// The values of a fixed layout (a list of names, whose offsets() the Lua reads) in its order.
export const inOrder = <N extends string>(names: readonly N[], values: Record<N, Arg>): Arg[] =>
  names.map((name) => values[name])

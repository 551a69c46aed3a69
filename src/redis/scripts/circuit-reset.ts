import { clientScript, type Redis } from '../client'
import { keys } from '../keys'
import { CIRCUIT_RESET, CIRCUIT_STATES, type CircuitState } from '../lua/circuit.lua'

const run = clientScript(CIRCUIT_RESET)

// An operator's reset of one provider's breaker (redis/lua/circuit.lua.ts): closed, counters cleared,
// health figures kept. Returns the state it was in.
export async function runCircuitReset(
  redis: Redis,
  reset: { providerId: string; label: string; now: number },
): Promise<CircuitState> {
  const previous = await run(
    redis,
    [keys.circuit(reset.providerId), keys.metrics()],
    [String(reset.now), reset.label],
  )
  return CIRCUIT_STATES[Number(previous)] ?? 'closed'
}

// CPU time of a process (all its threads), read synchronously from /proc so a sample can land exactly at a
// moment of interest. Prefers schedstat (nanoseconds of run time per thread) over stat's 10 ms ticks.
import { readdirSync, readFileSync } from 'node:fs'

const CLK_TCK = 100 // sysconf(_SC_CLK_TCK) on Linux

// Milliseconds of CPU used so far by `pid`, or null where /proc is unavailable.
export function cpuMs(pid: number): number | null {
  try {
    let ns = 0
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
      } catch {
        // the thread ended between the listing and the read
      }
    }
    if (ns > 0) return ns / 1e6
  } catch {
    // no schedstat: fall back to stat
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK // utime + stime: fields 14 and 15
  } catch {
    return null
  }
}

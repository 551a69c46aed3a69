// RFC 4180 CSV. Model names come from clients, so a cell that a spreadsheet would run as a formula
// (=, +, -, @, tab or CR first, also after leading whitespace or a `;` that some spreadsheets split
// on) is prefixed with a quote; numbers are written as they are.
type Cell = string | number | null

function cell(value: Cell): string {
  if (value === null) return ''
  if (typeof value === 'number') return String(value)
  const safe = /(^|;)[\s]*[=+\-@\t\r]/.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe
}

export function toCsv(header: string[], rows: Cell[][]): string {
  return [header, ...rows].map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n'
}

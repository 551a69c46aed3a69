// Spend against a budget, shared by the keys and projects pages: "$1.20 / $5.00" with a bar, or the
// spend alone when there is no budget.
import { money } from './format.js'
import { h } from './ui.js'

// The bar's width through the CSSOM: the page's Content-Security-Policy refuses style attributes.
function bar(share) {
  const span = h('span')
  span.style.width = `${Math.round(share * 100)}%`
  return span
}

export function spendCell(spent, budget, label) {
  const s = Number(spent ?? 0)
  if (budget === null || budget === undefined)
    return h('div', { class: 'nowrap', title: `${label}: no budget` }, `${money(s)} ${label}`)
  const share = budget > 0 ? Math.min(1, s / budget) : 1
  const kind = share >= 1 ? 'bad' : share >= 0.8 ? 'warn' : 'good'
  // The amounts never break; the period may go to the next line in a narrow column.
  return h(
    'div',
    { title: `${label}: ${Math.round(share * 100)}% of the budget` },
    h('span', { class: 'nowrap' }, `${money(s)} / ${money(budget)}`),
    ` ${label}`,
    h('div', { class: `meter meter-${kind}` }, bar(share)),
  )
}

export const spendCells = (row) => [
  spendCell(row.spend?.today_usd, row.daily_budget, 'today'),
  spendCell(row.spend?.month_usd, row.monthly_budget, 'month'),
]

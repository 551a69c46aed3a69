import type { WriteError } from '../db/admin-write'
import {
  findProject,
  insertProject,
  listProjectRows,
  updateProject,
  type ProjectChanges,
  type ProjectRow,
} from '../db/projects'
import { projectSpend, projectsSpend } from '../db/spend-report'
import { GatewayError } from '../errors'
import type { Balance } from '../billing/balance'
import { balanceOfProject, usdNumber } from './credits'
import { audit, commit, toColumns, type Admin } from './context'
import { notFound, storedText } from './query'
import type { ProjectCreate, ProjectPatch } from './schemas'
import { serializeProject } from './serialize'

// Projects: the limits and budgets all keys with the same project_id share. Every write bumps the config
// version, so each isolate reloads its cached keys (which carry their project) on the next request.
const COLUMNS: Record<string, keyof ProjectRow> = {
  name: 'name',
  status: 'status',
  rpm_limit: 'rpmLimit',
  tpm_limit: 'tpmLimit',
  daily_budget: 'dailyBudget',
  monthly_budget: 'monthlyBudget',
  budget_alerts: 'budgetAlerts',
  price_ratio: 'priceRatio',
  balance_alert_usd: 'balanceAlertUsd',
  windows: 'windows',
}
const TARGET = 'project'

// A prepaid project's live balance; null: postpaid.
const balanceUsd = (balance: Balance | null) => (balance ? usdNumber(balance.balancePico) : null)

const refuse = (error: WriteError) =>
  new GatewayError({
    code: 'conflict',
    message:
      error.reason === 'duplicate' ? 'A project with this id already exists.' : 'The write was refused.',
    param: 'id',
  })

async function mustFind(admin: Admin, id: string): Promise<ProjectRow> {
  const row = await findProject(admin.deps.db, storedText(id, 'id'))
  if (!row) throw notFound('project', id)
  return row
}

// With each project's spend today and this month (settled usage rows, UTC).
export async function listProjects(admin: Admin) {
  const rows = await listProjectRows(admin.deps.db)
  const spend = new Map(
    (
      await projectsSpend(
        admin.deps.db,
        rows.map((r) => r.id),
        admin.deps.now(),
      )
    ).map((s) => [s.projectId, s]),
  )
  const balances = await Promise.all(rows.map((row) => balanceOfProject(admin, row)))
  return {
    object: 'list' as const,
    data: rows.map((row, i) => {
      const s = spend.get(row.id)
      return {
        ...serializeProject(row),
        balance_usd: balanceUsd(balances[i]!),
        spend: { today_usd: s?.day ?? '0', month_usd: s?.month ?? '0' },
      }
    }),
  }
}

// The project with what its keys spent today and this month (settled usage rows, UTC).
export async function getProject(admin: Admin, id: string) {
  const row = await mustFind(admin, id)
  const [spend, balance] = await Promise.all([
    projectSpend(admin.deps.db, id, admin.deps.now()),
    balanceOfProject(admin, row),
  ])
  return {
    ...serializeProject(row),
    balance_usd: balanceUsd(balance),
    spend: { today_usd: spend.day, month_usd: spend.month },
  }
}

export async function createProject(admin: Admin, body: ProjectCreate) {
  const now = new Date(admin.deps.now())
  const row: ProjectRow = {
    id: body.id,
    name: body.id,
    status: 'active',
    rpmLimit: null,
    tpmLimit: null,
    dailyBudget: null,
    monthlyBudget: null,
    budgetAlerts: null,
    priceRatio: '1',
    prepaidSince: null,
    balanceAlertUsd: null,
    windows: [],
    createdAt: now,
    updatedAt: now,
    ...toColumns<ProjectRow>(body, COLUMNS),
  }
  const entry = audit(admin, 'project.create', { type: TARGET, id: row.id }, null, serializeProject(row))
  return serializeProject(await commit(admin, () => insertProject(admin.deps.db, row, entry), refuse))
}

export async function patchProject(admin: Admin, id: string, body: ProjectPatch) {
  const current = await mustFind(admin, id)
  const changes: ProjectChanges = {
    ...toColumns<ProjectRow>(body, COLUMNS),
    updatedAt: new Date(admin.deps.now()),
  }
  const entry = audit(
    admin,
    'project.update',
    { type: TARGET, id },
    serializeProject(current),
    serializeProject({ ...current, ...changes }),
  )
  const updated = await commit(admin, () => updateProject(admin.deps.db, id, changes, entry), refuse)
  if (!updated) throw notFound('project', id)
  return serializeProject(updated)
}

import { Hono, type Context } from 'hono'
import { auditLog } from '../admin/audit'
import { resetCircuit } from '../admin/circuits'
import { adminAuth } from '../admin/auth'
import { act } from '../admin/context'
import { createKey, getKey, listKeys, patchKey, rotateKey } from '../admin/keys'
import { createMapping, deleteMapping, listMappings, patchMapping } from '../admin/mappings'
import { listPrices, putPrice } from '../admin/prices'
import { exportFilter, ExportQuery, exportStream, firstExportPage } from '../admin/export'
import { addCredit, listCredits } from '../admin/credits'
import { listCodes, mintCodes, revoke } from '../admin/redemption-codes'
import { createProject, getProject, listProjects, patchProject } from '../admin/projects'
import { projectStatement, statementCsv, StatementQuery } from '../admin/statement'
import {
  createWebhook,
  deleteWebhook,
  listWebhooks,
  patchWebhook,
  webhookDeliveries,
} from '../admin/webhooks'
import { createProvider, listProviders, patchProvider } from '../admin/providers'
import { PageQuery, parseQuery } from '../admin/query'
import { rotateSecrets } from '../admin/secrets'
import { addStoredKey, patchStoredKey, removeStoredKey } from '../admin/stored-keys'
import * as schema from '../admin/schemas'
import { usageCsv, usageLogs, UsageLogsQuery, UsageQuery, usageSummary } from '../admin/usage'
import type { AppEnv } from '../context'
import { validateJson } from '../pipeline/validate-json'

// The static admin page is served by Workers assets before the Worker runs; a request that still
// reaches the Worker is handed to the same assets, ahead of admin auth (the page asks for the token).
// Redirects (e.g. /admin/ui/ → /admin/ui) go back to the browser as the asset layer would send them.
// Assets answer with immutable headers; a copy lets X-Request-Id be added like on every response.
async function ui(c: Context<AppEnv>): Promise<Response> {
  const res = await c.env.ASSETS.fetch(c.req.url, { headers: c.req.raw.headers, redirect: 'manual' })
  return new Response(res.body, {
    status: res.status,
    statusText: res.statusText,
    headers: new Headers(res.headers),
  })
}
// The body validateJson checked against this route's schema.
const body = <T>(c: Context<AppEnv>) => c.var.body as T

export const admin = new Hono<AppEnv>()
  .get('/ui', ui)
  .get('/ui/*', ui)
  .use(adminAuth)

  .get('/api-keys', async (c) =>
    c.json(await act(c, (a) => listKeys(a, parseQuery(PageQuery, c.req.query())))),
  )
  .post('/api-keys', validateJson(schema.KeyCreate), async (c) =>
    c.json(await act(c, (a) => createKey(a, body(c))), 201),
  )
  .get('/api-keys/:id', async (c) => c.json(await act(c, (a) => getKey(a, c.req.param('id')))))
  .patch('/api-keys/:id', validateJson(schema.KeyPatch), async (c) =>
    c.json(await act(c, (a) => patchKey(a, c.req.param('id'), body(c)))),
  )
  .post('/api-keys/:id/rotate', async (c) => c.json(await act(c, (a) => rotateKey(a, c.req.param('id')))))

  .get('/projects', async (c) => c.json(await act(c, listProjects)))
  .post('/projects', validateJson(schema.ProjectCreate), async (c) =>
    c.json(await act(c, (a) => createProject(a, body(c))), 201),
  )
  .get('/projects/:id', async (c) => c.json(await act(c, (a) => getProject(a, c.req.param('id')))))
  .get('/projects/:id/statement', async (c) => {
    const query = parseQuery(StatementQuery, c.req.query())
    const statement = await act(c, (a) => projectStatement(a, c.req.param('id'), query))
    if (query.format === 'json') return c.json(statement)
    const csv = statementCsv(statement)
    return c.body(csv.body, 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${csv.filename}"`,
    })
  })
  .patch('/projects/:id', validateJson(schema.ProjectPatch), async (c) =>
    c.json(await act(c, (a) => patchProject(a, c.req.param('id'), body(c)))),
  )
  .get('/projects/:id/credits', async (c) =>
    c.json(await act(c, (a) => listCredits(a, c.req.param('id'), parseQuery(PageQuery, c.req.query())))),
  )
  .post('/projects/:id/credits', validateJson(schema.CreditCreate), async (c) =>
    c.json(await act(c, (a) => addCredit(a, c.req.param('id'), body(c))), 201),
  )

  .get('/redemption-codes', async (c) =>
    c.json(
      await act(c, (a) =>
        listCodes(a, {
          ...parseQuery(PageQuery, c.req.query()),
          ...parseQuery(schema.CodesQuery, c.req.query()),
        }),
      ),
    ),
  )
  .post('/redemption-codes', validateJson(schema.CodesCreate), async (c) =>
    c.json(await act(c, (a) => mintCodes(a, body(c))), 201),
  )
  .post('/redemption-codes/:id/revoke', async (c) =>
    c.json(await act(c, (a) => revoke(a, c.req.param('id')))),
  )

  .get('/providers', async (c) => c.json(await act(c, listProviders)))
  .post('/providers', validateJson(schema.ProviderCreate), async (c) =>
    c.json(await act(c, (a) => createProvider(a, body(c))), 201),
  )
  // :id is the provider's id, number or name.
  .patch('/providers/:id', validateJson(schema.ProviderPatch), async (c) =>
    c.json(await act(c, (a) => patchProvider(a, c.req.param('id'), body(c)))),
  )
  .post('/providers/:id/reset', async (c) => c.json(await act(c, (a) => resetCircuit(a, c.req.param('id')))))
  .post('/providers/:id/keys', validateJson(schema.ProviderKeyAdd), async (c) =>
    c.json(await act(c, (a) => addStoredKey(a, c.req.param('id'), body(c))), 201),
  )
  .patch('/providers/:id/keys/:keyId', validateJson(schema.ProviderKeyPatch), async (c) =>
    c.json(await act(c, (a) => patchStoredKey(a, c.req.param('id'), c.req.param('keyId'), body(c)))),
  )
  .delete('/providers/:id/keys/:keyId', async (c) => {
    await act(c, (a) => removeStoredKey(a, c.req.param('id'), c.req.param('keyId')))
    return c.body(null, 204)
  })
  .post('/secrets/rotate', async (c) => c.json(await act(c, rotateSecrets)))

  .get('/model-mappings', async (c) =>
    c.json(await act(c, (a) => listMappings(a, parseQuery(schema.MappingsQuery, c.req.query()).model))),
  )
  .post('/model-mappings', validateJson(schema.MappingCreate), async (c) =>
    c.json(await act(c, (a) => createMapping(a, body(c))), 201),
  )
  .patch('/model-mappings/:id', validateJson(schema.MappingPatch), async (c) =>
    c.json(await act(c, (a) => patchMapping(a, c.req.param('id'), body(c)))),
  )
  .delete('/model-mappings/:id', async (c) => {
    await act(c, (a) => deleteMapping(a, c.req.param('id')))
    return c.body(null, 204)
  })

  .get('/prices', async (c) => c.json(await act(c, listPrices)))
  // Model names may contain slashes (org/model), so the parameter takes the rest of the path.
  .put('/prices/:model{.+}', validateJson(schema.PricePut), async (c) =>
    c.json(await act(c, (a) => putPrice(a, c.req.param('model'), body(c))), 201),
  )

  .get('/usage', async (c) => {
    const query = parseQuery(UsageQuery, c.req.query())
    const report = await act(c, (a) => usageSummary(a, query))
    if (query.format === 'json') return c.json(report)
    const csv = usageCsv(report)
    return c.body(csv.body, 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${csv.filename}"`,
    })
  })
  .get('/usage/logs/export', async (c) => {
    const query = parseQuery(ExportQuery, c.req.query())
    const filter = exportFilter(query, c.var.deps.now())
    const first = await act(c, (a) => firstExportPage(a.deps, filter))
    const csv = query.format === 'csv'
    const name = `usage_${filter.from.toISOString().slice(0, 10)}_${filter.to.toISOString().slice(0, 10)}`
    return c.body(exportStream(c.var.deps, c.var.requestId, filter, query.format, first), 200, {
      'content-type': csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
      'content-disposition': `attachment; filename="${name}.${csv ? 'csv' : 'ndjson'}"`,
    })
  })
  .get('/usage/logs', async (c) =>
    c.json(await act(c, (a) => usageLogs(a, parseQuery(UsageLogsQuery, c.req.query())))),
  )

  .get('/webhooks', async (c) => c.json(await act(c, listWebhooks)))
  .post('/webhooks', validateJson(schema.WebhookCreate), async (c) =>
    c.json(await act(c, (a) => createWebhook(a, body(c))), 201),
  )
  .patch('/webhooks/:id', validateJson(schema.WebhookPatch), async (c) =>
    c.json(await act(c, (a) => patchWebhook(a, c.req.param('id'), body(c)))),
  )
  .delete('/webhooks/:id', async (c) => {
    await act(c, (a) => deleteWebhook(a, c.req.param('id')))
    return c.body(null, 204)
  })
  .get('/webhooks/:id/deliveries', async (c) =>
    c.json(
      await act(c, (a) => webhookDeliveries(a, c.req.param('id'), parseQuery(PageQuery, c.req.query()))),
    ),
  )

  .get('/audit', async (c) => c.json(await act(c, (a) => auditLog(a, parseQuery(PageQuery, c.req.query())))))

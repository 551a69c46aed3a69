import { Hono } from 'hono'
import type { AppEnv } from '../context'

// Placeholder until the admin API lands.
export const admin = new Hono<AppEnv>()

// zod/mini bundles no messages: without a locale every issue reads "Invalid input". Classic zod
// registered English by itself; this does the same, once, for every module that defines schemas.
import * as z from 'zod/mini'
import { en } from 'zod/locales'

z.config(en())

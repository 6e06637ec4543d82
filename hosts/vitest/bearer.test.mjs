import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import suite from '../app/suite.cjs'

suite.appSuite({ describe, test, expect, beforeAll, afterAll }, 'bearer')

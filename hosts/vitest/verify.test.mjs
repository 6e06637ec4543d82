import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import suite from '../app/suite.cjs'

suite.verifySuite({ describe, test, expect, beforeAll, afterAll })

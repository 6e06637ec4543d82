require('../app/suite.cjs').verifySuite({ describe, test, expect, beforeAll, afterAll })

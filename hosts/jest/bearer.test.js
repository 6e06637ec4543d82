require('../app/suite.cjs').appSuite({ describe, test, expect, beforeAll, afterAll }, 'bearer')

import { afterAll } from 'bun:test'
import { rmSync } from 'node:fs'
import { TEST_ROOT } from './helpers'

// (preloaded: this afterAll runs once, after every test file)
afterAll(() => rmSync(TEST_ROOT, { recursive: true, force: true }))

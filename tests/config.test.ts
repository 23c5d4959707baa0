import { describe, expect, it } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { ConfigError, loadConfig } from '../src/config'
import { testDir } from './helpers'

const fails = (env: Record<string, string>) => {
  try {
    loadConfig(env)
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError)
    return (e as Error).message
  }
  throw new Error(`accepted ${JSON.stringify(env)}`)
}

describe('config', () => {
  it('has working defaults for the embedded set-up', () => {
    const c = loadConfig({})
    expect(c).toMatchObject({
      port: 3001,
      host: '0.0.0.0',
      dataDir: './data',
      dbPath: 'data/observatory.db',
      logLevel: 'info',
    })
    expect(c.corsOrigins).toEqual([])
    expect(c.maxBodyBytes).toBe(10 * 1024 * 1024)
    expect(c.jwtSecretGenerated).toBe(true)
    expect(c.jwtSecret.length).toBeGreaterThanOrEqual(32)
    expect(loadConfig({}).jwtSecret).not.toBe(c.jwtSecret)
  })

  it('reads every variable', () => {
    const c = loadConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      DATA_DIR: '/var/obs',
      LOG_LEVEL: 'debug',
      CORS_ORIGINS: 'https://a.example.com, http://localhost:5173/',
      JWT_SECRET: 's'.repeat(32),
      MAX_BODY_MB: '2.5',
      NODE_ENV: 'production',
    })
    expect(c).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      dbPath: '/var/obs/observatory.db',
      logLevel: 'debug',
      env: 'production',
    })
    expect(c.corsOrigins).toEqual(['https://a.example.com', 'http://localhost:5173'])
    expect(c.jwtSecretGenerated).toBe(false)
    expect(c.maxBodyBytes).toBe(2.5 * 1024 * 1024)
    expect(loadConfig({ DB_PATH: '/tmp/x.db', DATA_DIR: '/d' }).dbPath).toBe('/tmp/x.db')
  })

  it('names the variable and the rule when a value is bad', () => {
    expect(fails({ PORT: 'abc' })).toStartWith('PORT:')
    expect(fails({ PORT: '70000' })).toStartWith('PORT:')
    expect(fails({ LOG_LEVEL: 'loud' })).toStartWith(
      'LOG_LEVEL: must be one of trace, debug, info, warn, error, fatal, silent',
    )
    expect(fails({ MAX_BODY_MB: '0' })).toStartWith('MAX_BODY_MB:')
    expect(fails({ NODE_ENV: 'staging' })).toStartWith('NODE_ENV:')
    expect(fails({ JWT_SECRET: 'short' })).toStartWith('JWT_SECRET:')
    expect(fails({ CORS_ORIGINS: 'not a url' })).toStartWith('CORS_ORIGINS:')
    expect(fails({ CORS_ORIGINS: 'https://a.example.com/app' })).toContain('origin only')
  })

  it('requires a JWT secret of at least 32 characters in production', () => {
    expect(fails({ NODE_ENV: 'production' })).toBe(
      'JWT_SECRET: required when NODE_ENV=production (at least 32 characters)',
    )
    expect(fails({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(31) })).toStartWith('JWT_SECRET:')
  })
})

describe('PRICES_FILE', () => {
  const dir = testDir('prices-')
  const write = (name: string, text: string) => {
    const path = `${dir}/${name}`
    writeFileSync(path, text)
    return path
  }

  it('loads model prices that override the built-in table', () => {
    const price = { input: 1, output: 2, cacheWrite5m: 3, cacheWrite1h: 4, cacheRead: 0.5 }
    const c = loadConfig({ PRICES_FILE: write('ok.json', JSON.stringify({ 'my-model': price })) })
    expect(c.prices).toEqual({ 'my-model': price })
  })

  it('names the file and the entry that does not fit', () => {
    expect(fails({ PRICES_FILE: write('bad.json', '{"m": {"input": -1}}') })).toStartWith('PRICES_FILE:')
    expect(fails({ PRICES_FILE: write('broken.json', '{') })).toContain('broken.json')
    expect(fails({ PRICES_FILE: `${dir}/missing.json` })).toStartWith('PRICES_FILE:')
  })
})

import { join } from 'node:path'

const ENTRY = join(import.meta.dir, '../src/index.ts')

/**
 * Starts the real server (`bun src/index.ts`) on port 0 with these environment variables, and resolves with the
 * process and its URL once it logs that it listens. Its log keeps being drained so it never blocks on a full pipe.
 */
export async function startServer(env: Record<string, string>) {
  const proc = Bun.spawn([process.execPath, ENTRY], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const reader = proc.stdout.getReader()
  let seen = ''
  while (true) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`server exited before listening: ${seen}${await new Response(proc.stderr).text()}`)
    seen += new TextDecoder().decode(value)
    const match = seen.match(/"url":"(http:\/\/[^"]+)"/)
    if (match) {
      reader.releaseLock()
      void proc.stdout.pipeTo(new WritableStream())
      void proc.stderr.pipeTo(new WritableStream())
      return { proc, url: (match[1] as string).replace(/\/$/, '') }
    }
  }
}
export type ServerProcess = Awaited<ReturnType<typeof startServer>>

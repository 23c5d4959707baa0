/**
 * Holds many Server-Sent Events subscriptions to GET /api/live/stream open over raw sockets (cheaper than fetch, so
 * the client steals little CPU from the server it measures) and records, per subscriber, when each marked event
 * (`toolu_live_<n>_x` in its data) arrived, on a clock shared by every process of the machine.
 *
 *   bun bench/live-client.ts <host> <port> <api key> <subscribers> <events>
 *
 * Prints `{"ready":…}` once every subscription has been answered, then, when a line `stop` arrives on stdin, one JSON
 * line with the arrival times (ms, 0 = never arrived) per subscriber and what went wrong.
 */
import type { Socket } from 'bun'

/**
 * ms since the epoch with sub-ms resolution: the wall clock read once at process start (timeOrigin) plus the
 * monotonic time since, so times taken in two processes of the machine subtract (process.hrtime in Bun counts from
 * the process's own start).
 */
export const monotonicMs = () => performance.timeOrigin + performance.now()

export type LiveClientResult = {
  subscribers: number
  connected: number
  /** answered with something other than 200 */
  refused: number
  connectErrors: number
  /** closed, ended or failed after connecting, before `stop` */
  disconnects: number
  /** still open at `stop` */
  open: number
  /** arrival times per subscriber, per event index (0 = never arrived) */
  arrivals: number[][]
}

type Sub = {
  status: 'connecting' | 'open' | 'refused' | 'failed' | 'closed'
  header: string
  tail: string
  arrivals: Float64Array
  socket?: Socket<undefined>
}

const MARK = /toolu_live_(\d+)_x/g

if (import.meta.main) {
  const [host, portText, apiKey, countText, eventsText] = process.argv.slice(2)
  if (!host || !portText || !apiKey || !countText || !eventsText) {
    console.error('usage: bun bench/live-client.ts <host> <port> <api key> <subscribers> <events>')
    process.exit(2)
  }
  const port = Number(portText)
  const count = Number(countText)
  const events = Number(eventsText)
  const request = `GET /api/live/stream HTTP/1.1\r\nHost: ${host}:${port}\r\nAccept: text/event-stream\r\nX-API-Key: ${apiKey}\r\n\r\n`
  const subs: Sub[] = []
  let stopping = false
  let disconnects = 0
  let connectErrors = 0

  const scan = (sub: Sub, text: string) => {
    const now = monotonicMs()
    // keep a short tail: a marker cut between two reads is found when the rest arrives
    const hay = sub.tail + text
    for (const m of hay.matchAll(MARK)) {
      const n = Number(m[1])
      if (n < events && sub.arrivals[n] === 0) sub.arrivals[n] = now
    }
    sub.tail = hay.slice(-32)
  }

  const open = (sub: Sub) =>
    new Promise<void>((resolve) => {
      let settled = false
      const settle = () => {
        if (!settled) {
          settled = true
          resolve()
        }
      }
      Bun.connect({
        hostname: host,
        port,
        socket: {
          open(socket) {
            sub.socket = socket
            socket.write(request)
          },
          data(_socket, data) {
            const text = data.toString('latin1')
            if (sub.status === 'connecting') {
              sub.header += text
              const end = sub.header.indexOf('\r\n\r\n')
              if (end === -1) return
              if (!sub.header.startsWith('HTTP/1.1 200')) {
                sub.status = 'refused'
                settle()
                return
              }
              // answered: the body's first bytes (retry: …) may already be here
              const body = sub.header.slice(end + 4)
              sub.status = 'open'
              sub.header = sub.header.slice(0, end)
              settle()
              if (body) scan(sub, body)
              return
            }
            scan(sub, text)
          },
          close() {
            if (sub.status === 'open' && !stopping) disconnects++
            if (sub.status === 'connecting') sub.status = 'failed'
            else if (sub.status === 'open') sub.status = 'closed'
            settle()
          },
          error() {
            if (sub.status === 'connecting') sub.status = 'failed'
            settle()
          },
          connectError() {
            connectErrors++
            sub.status = 'failed'
            settle()
          },
        },
      }).catch(() => {
        connectErrors++
        sub.status = 'failed'
        settle()
      })
    })

  // open in waves, so the listen backlog never overflows
  for (let i = 0; i < count; i += 50) {
    const wave: Promise<void>[] = []
    for (let j = i; j < Math.min(count, i + 50); j++) {
      const sub: Sub = { status: 'connecting', header: '', tail: '', arrivals: new Float64Array(events) }
      subs.push(sub)
      wave.push(open(sub))
    }
    await Promise.race([Promise.all(wave), Bun.sleep(15_000)])
  }
  const connected = subs.filter((s) => s.status === 'open').length
  console.log(
    JSON.stringify({
      ready: connected,
      refused: subs.filter((s) => s.status === 'refused').length,
      failed: subs.filter((s) => s.status === 'failed' || s.status === 'connecting').length,
    }),
  )

  for await (const line of console) {
    if (line.trim() !== 'stop') continue
    stopping = true
    const result: LiveClientResult = {
      subscribers: count,
      connected,
      refused: subs.filter((s) => s.status === 'refused').length,
      connectErrors,
      disconnects,
      open: subs.filter((s) => s.status === 'open').length,
      arrivals: subs.map((s) => Array.from(s.arrivals)),
    }
    console.log(JSON.stringify(result))
    for (const s of subs) s.socket?.end()
    break
  }
  process.exit(0)
}

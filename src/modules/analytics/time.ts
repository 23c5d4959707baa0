import { AppError } from '../../lib/errors'

const formatters = new Map<string, Intl.DateTimeFormat>()

/**
 * A cached formatter for calendar dates in a time zone; throws 400 for an unknown zone, or an offset that is not a
 * whole quarter hour (usage is summed by quarter hours, which every zone's offsets have been since 1972).
 */
function formatter(timeZone: string) {
  let f = formatters.get(timeZone)
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
    } catch {
      throw new AppError(400, 'BAD_REQUEST', `unknown time zone "${timeZone}" (use an IANA name such as Europe/Paris)`)
    }
    const offset = f.resolvedOptions().timeZone.match(/^[+-]\d{2}:(\d{2})$/)
    if (offset && Number(offset[1]) % 15 !== 0)
      throw new AppError(
        400,
        'BAD_REQUEST',
        `time zone "${timeZone}": an offset must be a whole number of quarter hours (better, an IANA name such as Europe/Paris)`,
      )
    formatters.set(timeZone, f)
  }
  return f
}

/** The calendar date (YYYY-MM-DD) of an instant in a time zone. */
export const dateIn = (ms: number, timeZone: string) => formatter(timeZone).format(ms)

const offsets = new Map<string, Intl.DateTimeFormat>()
/** offsets already worked out, per zone: Intl takes tens of microseconds for one, and a report asks for about a hundred */
const knownOffsets = new Map<string, Map<number, number>>()
let knownCount = 0
const KNOWN_OFFSETS_LIMIT = 100_000 // about 10 MB

/** The zone's offset from UTC at an instant, in milliseconds (e.g. +19_800_000 for Asia/Kolkata). */
export function offsetAt(ms: number, timeZone: string) {
  const known = knownOffsets.get(timeZone)?.get(ms)
  if (known !== undefined) return known
  formatter(timeZone) // validates the zone
  let f = offsets.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
    offsets.set(timeZone, f)
  }
  const name = f.formatToParts(ms).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT'
  const match = name.match(/GMT([+-])(\d{2}):(\d{2})/)
  const minutes = match ? Number(match[2]) * 60 + Number(match[3]) : 0
  const offset = (match?.[1] === '-' ? -minutes : minutes) * 60_000
  if (++knownCount > KNOWN_OFFSETS_LIMIT) {
    knownOffsets.clear()
    knownCount = 1
  }
  const zone = knownOffsets.get(timeZone) ?? new Map<number, number>()
  knownOffsets.set(timeZone, zone.set(ms, offset))
  return offset
}

export const HOUR_MS = 3_600_000
export const DAY_MS = 86_400_000

/** Midnight UTC of a calendar date (YYYY-MM-DD), plus `days` (Date.UTC would take the years 0–99 as 1900–1999). */
function utcMidnight(date: string, days = 0) {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  return new Date(0).setUTCFullYear(y, m - 1, d + days)
}

/**
 * The instant a calendar date (YYYY-MM-DD) begins in a time zone: its local midnight, or where the clocks skip
 * midnight (America/Havana in March), the first instant after.
 */
export function startOfDate(date: string, timeZone: string): number {
  const wall = utcMidnight(date)
  // midnight under the offset in force a day before, and under the one a day after: the earlier that is on that day
  const starts = [wall - offsetAt(wall - DAY_MS, timeZone), wall - offsetAt(wall + DAY_MS, timeZone)]
  const onTheDay = starts.filter((t) => dateIn(t, timeZone) === date)
  return onTheDay.length ? Math.min(...onTheDay) : (starts[0] as number)
}

/** The calendar date after this one (YYYY-MM-DD; 10000-01-01 after 9999-12-31). */
export function nextDate(date: string) {
  const next = new Date(utcMidnight(date, 1))
  const pad = (n: number, width: number) => String(n).padStart(width, '0')
  return `${pad(next.getUTCFullYear(), 4)}-${pad(next.getUTCMonth() + 1, 2)}-${pad(next.getUTCDate(), 2)}`
}

/** Monday of the ISO week a date falls in (the key ccusage's weekly report uses). */
export function weekOf(date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  const day = new Date(Date.UTC(y, m - 1, d))
  const back = (day.getUTCDay() + 6) % 7
  return new Date(day.getTime() - back * 86_400_000).toISOString().slice(0, 10)
}

import { AppError } from '../../lib/errors'

const formatters = new Map<string, Intl.DateTimeFormat>()

/** A cached formatter for calendar dates in a time zone; throws 400 for an unknown zone. */
function formatter(timeZone: string) {
  let f = formatters.get(timeZone)
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
    } catch {
      throw new AppError(400, 'BAD_REQUEST', `unknown time zone "${timeZone}" (use an IANA name such as Europe/Paris)`)
    }
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

/** The instant a calendar date (YYYY-MM-DD) begins in a time zone. */
export function startOfDate(date: string, timeZone: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  const wallMidnight = Date.UTC(y, m - 1, d)
  // the offset that applies at local midnight: take it at a first guess, then again at the corrected instant
  const first = wallMidnight - offsetAt(wallMidnight, timeZone)
  return wallMidnight - offsetAt(first, timeZone)
}

/** Monday of the ISO week a date falls in (the key ccusage's weekly report uses). */
export function weekOf(date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  const day = new Date(Date.UTC(y, m - 1, d))
  const back = (day.getUTCDay() + 6) % 7
  return new Date(day.getTime() - back * 86_400_000).toISOString().slice(0, 10)
}

import { type Dirent, existsSync, type Stats } from 'node:fs'
import { access, constants, readdir, stat } from 'node:fs/promises'
import { homedir } from 'node:os'
import { isAbsolute, join, relative, resolve, sep } from 'node:path'
import { createJsonlSniffer, SNIFF_BYTES } from '../modules/ingest/sniff'
import { CliError, messageOf } from './errors'

/** A transcript file found on disk. `path` is absolute: it is also the source key that makes re-imports incremental. */
export type Transcript = { path: string; displayName: string; size: number; mtimeMs: number }

export type Scan = {
  files: Transcript[]
  /** every folder walked, with its mtime: a new file changes it, so watch can poll folders cheaply */
  dirs: Map<string, number>
  /** folders inside the given ones that could not be read (not fatal) */
  warnings: string[]
}

const expandHome = (p: string, home: string) => (p === '~' || p.startsWith('~/') ? join(home, p.slice(1)) : p)

/**
 * Where Claude Code keeps transcripts: `<dir>/projects` for each folder of CLAUDE_CONFIG_DIR (comma-separated), else
 * ~/.claude/projects and ~/.config/claude/projects; only those that exist.
 */
export function defaultRoots(env: Record<string, string | undefined> = process.env, home = homedir()) {
  const configDirs = (env.CLAUDE_CONFIG_DIR ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  const candidates =
    configDirs.length > 0
      ? configDirs.map((d) => join(resolve(expandHome(d, home)), 'projects'))
      : [join(home, '.claude', 'projects'), join(home, '.config', 'claude', 'projects')]
  return { candidates, existing: candidates.filter((p) => existsSync(p)) }
}

/** The path as the user would type it from here: relative when under the working folder, else absolute. */
export function displayNameOf(path: string, cwd = process.cwd()) {
  const rel = relative(cwd, path)
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path
}

/**
 * Orders files by path segments, so `<session>.jsonl` comes right before `<session>/subagents/agent-*.jsonl` (its
 * conversation and tool calls exist before the subagent lines link to them).
 */
export function compareTranscriptPaths(a: string, b: string) {
  const sa = a.replace(/\.jsonl$/, '').split(sep)
  const sb = b.replace(/\.jsonl$/, '').split(sep)
  for (let i = 0; i < Math.min(sa.length, sb.length); i++) {
    const x = sa[i] as string
    const y = sb[i] as string
    if (x !== y) return x < y ? -1 : 1
  }
  return sa.length - sb.length
}

/**
 * Finds the transcripts under the given paths: a file is taken if its head is JSONL (or it is empty); a folder is
 * walked for `*.jsonl` (subagents/ folders included), following symlinks but never the same folder or file twice, so
 * symlink loops end.
 * A path that does not exist or cannot be read is fatal (CliError).
 */
export async function findTranscripts(paths: string[], cwd = process.cwd()): Promise<Scan> {
  const files: Transcript[] = []
  const dirs = new Map<string, number>()
  const warnings: string[] = []
  const seen = new Set<string>()
  // dev:ino identifies a file or folder whatever the path (symlink) it was reached through
  const once = (st: Stats) => {
    const key = `${st.dev}:${st.ino}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  }
  const addFile = (path: string, st: Stats) => {
    if (once(st)) files.push({ path, displayName: displayNameOf(path, cwd), size: st.size, mtimeMs: st.mtimeMs })
  }

  // Symlinks are followed only after every real folder was walked, so a file reached both ways keeps its real path
  // (its source key) whatever order the folders are listed in.
  const links: string[] = []
  const walk = async (dir: string, st: Stats, root: boolean) => {
    if (!once(st)) return
    let entries: Dirent[]
    try {
      entries = await readdir(dir, { withFileTypes: true })
    } catch (e) {
      if (root) throw new CliError(`cannot read ${dir}: ${messageOf(e)}`)
      warnings.push(`cannot read ${dir}: ${messageOf(e)}`)
      return
    }
    dirs.set(dir, st.mtimeMs)
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const entry of entries) {
      const path = join(dir, entry.name)
      if (entry.isSymbolicLink()) links.push(path)
      else if (entry.isDirectory()) await statThen(path, (target) => walk(path, target, false))
      else if (entry.isFile() && entry.name.endsWith('.jsonl')) await statThen(path, (target) => addFile(path, target))
    }
  }
  const statThen = async (path: string, then: (st: Stats) => unknown) => {
    let target: Stats
    try {
      target = await stat(path) // follows a symlink; a broken one, or a file gone meanwhile, is skipped
    } catch {
      return
    }
    await then(target)
  }
  const followLinks = async () => {
    for (let path = links.shift(); path !== undefined; path = links.shift()) {
      const name = path
      await statThen(name, async (target) => {
        if (target.isDirectory()) await walk(name, target, false)
        else if (target.isFile() && name.endsWith('.jsonl')) addFile(name, target)
      })
    }
  }

  for (const given of paths) {
    const path = resolve(cwd, given)
    let st: Stats
    try {
      st = await stat(path)
    } catch (e) {
      const code = (e as { code?: string }).code
      throw new CliError(code === 'ENOENT' ? `${given}: no such file or folder` : `${given}: ${messageOf(e)}`)
    }
    if (st.isDirectory()) await walk(path, st, true)
    else if (st.isFile()) {
      await access(path, constants.R_OK).catch((e) => {
        throw new CliError(`cannot read ${given}: ${messageOf(e)}`)
      })
      // held to what an upload is (a folder's are its *.jsonl files); an unfinished first line may still come whole
      if (createJsonlSniffer().push(await Bun.file(path).slice(0, SNIFF_BYTES).bytes()) === false)
        throw new CliError(`${given}: not a JSONL transcript (its first line is not a JSON object)`)
      addFile(path, st)
    } else throw new CliError(`${given}: not a file or folder`)
  }
  await followLinks()
  files.sort((a, b) => compareTranscriptPaths(a.path, b.path))
  return { files, dirs, warnings }
}

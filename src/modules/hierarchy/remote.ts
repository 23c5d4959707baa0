import { AppError } from '../../lib/errors'

export type Remote = { url: string; host: string; owner: string; repo: string }

const notARepository = (input: string, why: string) =>
  new AppError(422, 'VALIDATION', `git_remote: "${input}" is not a repository URL: ${why}`, [
    { path: '/git_remote', message: why },
  ])

/**
 * One name for a repository however it is cloned: `git@host:owner/repo.git`, `https://user@host/owner/repo(.git)`,
 * `ssh://git@host:22/owner/repo`, `git://host/owner/repo` all become `https://host/owner/repo`. The owner may be a
 * nested group (gitlab.com/group/sub/repo); the host is lower-cased, credentials, ports and `.git` dropped.
 */
export function normalizeRemote(input: string): Remote {
  const trimmed = input.trim()
  let host: string
  let path: string
  // a URL's path is %-escaped; an scp-like path (host:owner/repo) is taken as written
  let escaped = false
  const scp = trimmed.match(/^(?:[\w.-]+@)?([\w.-]+):(?!\/\/)(.+)$/)
  if (scp && !/^[a-z][\w+.-]*:\/\//i.test(trimmed)) {
    host = scp[1] as string
    path = scp[2] as string
  } else {
    let url: URL
    try {
      url = new URL(trimmed)
    } catch {
      throw notARepository(input, 'not a URL and not host:owner/repo')
    }
    if (!['https:', 'http:', 'ssh:', 'git:', 'git+ssh:', 'ssh+git:'].includes(url.protocol))
      throw notARepository(input, `scheme ${url.protocol} is not a git transport`)
    host = url.hostname
    path = url.pathname
    escaped = true
  }
  // each segment decoded alone, so an escaped slash (%2F) stays inside its segment and is refused with it
  let parts: string[]
  try {
    parts = path
      .replace(/\.git\/?$/i, '')
      .split('/')
      .filter(Boolean)
      .map((p) => (escaped ? decodeURIComponent(p) : p))
  } catch {
    throw notARepository(input, 'the path has a malformed %-escape')
  }
  if (!host || !/^[\w.-]+$/.test(host)) throw notARepository(input, 'no host')
  if (parts.length < 2) throw notARepository(input, 'the path needs an owner and a repository (owner/repo)')
  if (parts.some((p) => p === '.' || p === '..' || !/^[\w.@~+-]+$/.test(p)))
    throw notARepository(input, 'the path has characters a repository name cannot have')
  const repo = parts.at(-1) as string
  const owner = parts.slice(0, -1).join('/')
  host = host.toLowerCase()
  return { url: `https://${host}/${owner}/${repo}`, host, owner, repo }
}

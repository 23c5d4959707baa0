import { Elysia, t } from 'elysia'
import { ErrorBody } from '../../lib/errors'
import { IdParams, SECURITY } from '../../lib/models'
import type { RateLimiter } from '../../lib/rate-limit'
import type { AuthGuard } from '../auth/guard'
import { FileModel } from './model'
import type { FileService } from './service'
import { readUploadForm } from './upload-form'

/** What the upload route's body is until its handler reads the request stream itself. */
const DEFERRED_BODY = Object.freeze({})

/** Transcript uploads and server-side imports, processed in the background; their progress and bad lines. */
export const filesModule = ({
  files,
  guard,
  importLimiter,
}: {
  files: FileService
  guard: AuthGuard
  importLimiter: RateLimiter
}) =>
  new Elysia({ name: 'files', prefix: '/api/files', detail: { tags: ['files'], security: SECURITY } })
    .use(guard)
    .model(FileModel)
    .model({ error: ErrorBody })
    .post(
      '',
      async ({ user, request, headers, status }) =>
        status(
          202,
          await files.upload(user, await readUploadForm(request, files), {
            // (an empty header names none)
            machineId: headers['x-observatory-machine-id'] || null,
            machineHostname: headers['x-observatory-hostname'] || null,
          }),
        ),
      {
        role: 'member',
        // Elysia must not read the body: the handler streams it to disk once the caller is authenticated. The
        // placeholder keeps Elysia's own parser away; 'multipart/form-data' only tells the docs what to send.
        parse: [() => DEFERRED_BODY, 'multipart/form-data'],
        body: 'file.Upload',
        headers: 'file.UploadHeaders',
        response: {
          202: 'file.File',
          400: 'error',
          401: 'error',
          403: 'error',
          409: 'error',
          413: 'error',
          415: 'error',
          422: 'error',
          429: 'error',
        },
        detail: {
          summary: 'Upload a transcript',
          description:
            'multipart/form-data with `file` (a .jsonl transcript). Answers 202 at once; the import runs in the ' +
            'background: poll GET /api/files/:id. With `source_key`, the uploads of one file build up one copy of ' +
            'it on the server and each import reads only what is new. To send only what was appended, ask ' +
            'GET /api/files/source for the size and fingerprint held, check the fingerprint against your file, and ' +
            'send the bytes from there with `offset` and `fingerprint` before `file` (409 when the server holds ' +
            "something else). An append continues the key's latest record once its import has finished.",
        },
      },
    )
    .post(
      '/import-path',
      async ({ user, body, status }) => {
        await importLimiter.hit(`import-path:${user.id}`)
        return status(202, await files.importPath(user, body.path))
      },
      {
        role: 'admin',
        body: 'file.ImportPath',
        response: {
          202: 'file.ImportPathResult',
          400: 'error',
          401: 'error',
          403: 'error',
          422: 'error',
          429: 'error',
        },
        detail: {
          summary: 'Import a file or folder on the server',
          description:
            'Admins only, and only under IMPORT_ROOTS (symlinks are resolved first). One file record per transcript.',
        },
      },
    )
    .get('', ({ user, query }) => files.list(user, query.limit, query.offset), {
      role: 'viewer',
      query: 'file.ListQuery',
      response: { 200: 'file.Page', 401: 'error', 422: 'error', 429: 'error' },
      detail: { summary: 'List files, newest first' },
    })
    .get('/source', ({ user, query }) => files.source(user, query.source_key), {
      role: 'viewer',
      query: 'file.SourceQuery',
      response: { 200: 'file.Source', 401: 'error', 404: 'error', 422: 'error', 429: 'error' },
      detail: {
        summary: 'What the server holds of a source key',
        description:
          "The size and fingerprint of the copy your uploads under this source_key built up: an upload with `offset` sends the file's bytes from `size` on.",
      },
    })
    .get('/:id', ({ user, params }) => files.get(user, params.id), {
      role: 'viewer',
      params: IdParams,
      response: { 200: 'file.File', 401: 'error', 404: 'error', 422: 'error', 429: 'error' },
      detail: { summary: 'A file and its import progress' },
    })
    .get('/:id/errors', ({ user, params, query }) => files.errors(user, params.id, query), {
      role: 'viewer',
      params: IdParams,
      query: 'file.ErrorsQuery',
      response: { 200: 'file.ErrorPage', 401: 'error', 404: 'error', 422: 'error', 429: 'error' },
      detail: { summary: 'Lines that could not be imported, with line number, byte offset and reason' },
    })
    .delete(
      '/:id',
      async ({ user, params, status }) => {
        await files.remove(user, params.id)
        return status(204, undefined)
      },
      {
        role: 'member',
        params: IdParams,
        response: { 204: t.Undefined(), 401: 'error', 403: 'error', 404: 'error', 422: 'error', 429: 'error' },
        detail: { summary: 'Delete a file record and its stored upload (imported conversations stay)' },
      },
    )

import { Value } from '@sinclair/typebox/value'
import { AppError } from '../../lib/errors'
import { SourceKey } from './model'
import { boundaryOf, MultipartError, parseMultipart } from './multipart'
import type { ReceivedUpload } from './service'

/** The form of POST /api/files once read: the file is on disk, not in memory. */
export type UploadForm = { file: ReceivedUpload; name: string; sourceKey?: string }

/** The same error body a schema violation gets (422 VALIDATION, the field's path in `details`). */
const invalid = (field: string, message: string) =>
  new AppError(422, 'VALIDATION', `invalid body ${field}: ${message}`, [{ path: `/${field}`, message }])

/** source_key as text, read no further than its longest value can be in UTF-8. */
async function readSourceKey(body: AsyncIterable<Uint8Array>) {
  const maxLength = SourceKey.maxLength ?? 1024
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of body) {
    size += chunk.length
    if (size > maxLength * 4) throw invalid('source_key', `Expected string length less or equal to ${maxLength}`)
    chunks.push(chunk)
  }
  const value = new TextDecoder().decode(Buffer.concat(chunks))
  const error = Value.Errors(SourceKey, value).First()
  if (error) throw invalid('source_key', error.message)
  return value
}

/**
 * Reads the multipart body of an upload as it arrives, after the caller has been authenticated: the `file` part
 * goes straight to `receive` (to disk, chunk by chunk), `source_key` is checked against its schema, and any other
 * part is refused at once. A file already received is removed if the rest of the form is refused.
 */
export async function readUploadForm(
  request: Request,
  files: {
    receive(content: AsyncIterable<Uint8Array>): Promise<ReceivedUpload>
    discard(received: ReceivedUpload): Promise<void>
  },
): Promise<UploadForm> {
  const boundary = boundaryOf(request.headers.get('content-type'))
  if (!boundary)
    throw new AppError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      'send multipart/form-data (with its boundary) holding a `file` part',
    )
  let received: ReceivedUpload | undefined
  let name = ''
  let sourceKey: string | undefined
  try {
    for await (const part of parseMultipart(request.body, boundary)) {
      if (part.name === 'file') {
        if (received) throw invalid('file', 'Expected one file, got several')
        if (part.filename === undefined) throw invalid('file', "Expected kind 'File'")
        name = part.filename
        received = await files.receive(part.body)
      } else if (part.name === 'source_key') {
        if (sourceKey !== undefined) throw invalid('source_key', 'Expected one value, got several')
        sourceKey = await readSourceKey(part.body)
      } else if (part.name === undefined)
        throw new AppError(400, 'BAD_REQUEST', 'a part of the multipart body has no Content-Disposition name')
      else throw invalid(part.name.slice(0, 100), 'Unexpected property')
    }
    if (!received) throw invalid('file', 'Expected required property')
    return { file: received, name, sourceKey }
  } catch (e) {
    if (received) await files.discard(received)
    if (e instanceof MultipartError)
      throw new AppError(400, 'BAD_REQUEST', `the multipart body could not be read: ${e.message}`)
    throw e
  }
}

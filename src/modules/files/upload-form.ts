import type { TString } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { AppError } from '../../lib/errors'
import { Fingerprint, SourceKey, UploadOffset } from './model'
import { boundaryOf, MultipartError, parseMultipart } from './multipart'
import type { ReceivedUpload } from './service'

/** The form of POST /api/files once read: the file is on disk, not in memory. */
export type UploadForm = {
  file: ReceivedUpload
  name: string
  sourceKey?: string
  /** the file holds the source's bytes from `offset` on, which the server holds up to there with this fingerprint */
  append?: { offset: number; fingerprint: string }
}

/** The same error body a schema violation gets (422 VALIDATION, the field's path in `details`). */
const invalid = (field: string, message: string) =>
  new AppError(422, 'VALIDATION', `invalid body ${field}: ${message}`, [{ path: `/${field}`, message }])

/** A text field checked against its schema, read no further than its longest value can be in UTF-8. */
async function readField(field: string, schema: TString, body: AsyncIterable<Uint8Array>) {
  const maxLength = schema.maxLength ?? 1024
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of body) {
    size += chunk.length
    if (size > maxLength * 4) throw invalid(field, `Expected string length less or equal to ${maxLength}`)
    chunks.push(chunk)
  }
  const value = new TextDecoder().decode(Buffer.concat(chunks))
  const error = Value.Errors(schema, value).First()
  if (error) throw invalid(field, error.message)
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
    receive(content: AsyncIterable<Uint8Array>, options?: { fileStart?: boolean }): Promise<ReceivedUpload>
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
  const text: Record<'source_key' | 'offset' | 'fingerprint', string | undefined> = {
    source_key: undefined,
    offset: undefined,
    fingerprint: undefined,
  }
  const schemas = { source_key: SourceKey, offset: UploadOffset, fingerprint: Fingerprint }
  try {
    for await (const part of parseMultipart(request.body, boundary)) {
      if (part.name === 'file') {
        if (received) throw invalid('file', 'Expected one file, got several')
        if (part.filename === undefined) throw invalid('file', "Expected kind 'File'")
        name = part.filename
        // with an offset sent first, the bytes are an append's: they are not judged as the start of a file
        received = await files.receive(part.body, { fileStart: text.offset === undefined })
      } else if (part.name === 'source_key' || part.name === 'offset' || part.name === 'fingerprint') {
        if (text[part.name] !== undefined) throw invalid(part.name, 'Expected one value, got several')
        text[part.name] = await readField(part.name, schemas[part.name], part.body)
      } else if (part.name === undefined)
        throw new AppError(400, 'BAD_REQUEST', 'a part of the multipart body has no Content-Disposition name')
      else throw invalid(part.name.slice(0, 100), 'Unexpected property')
    }
    if (!received) throw invalid('file', 'Expected required property')
    const { source_key: sourceKey, offset, fingerprint } = text
    if ((offset === undefined) !== (fingerprint === undefined))
      throw invalid(offset === undefined ? 'offset' : 'fingerprint', 'offset and fingerprint go together')
    if (offset === undefined || fingerprint === undefined) return { file: received, name, sourceKey }
    if (sourceKey === undefined) throw invalid('source_key', 'Expected required property with offset')
    // (at most 15 digits: always a safe integer)
    return { file: received, name, sourceKey, append: { offset: Number(offset), fingerprint } }
  } catch (e) {
    if (received) await files.discard(received)
    if (e instanceof MultipartError)
      throw new AppError(400, 'BAD_REQUEST', `the multipart body could not be read: ${e.message}`)
    throw e
  }
}

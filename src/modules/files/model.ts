import { t } from 'elysia'
import { Integer, MachineHeaders, Page, PageQuery, Timestamp } from '../../lib/models'

export const LineErrorSchema = t.Object(
  {
    line: Integer(),
    offset: Integer({ description: 'Byte offset of the line in the file' }),
    reason: t.String({ description: 'invalid_json, not_object, invalid_utf8, line_too_long, …' }),
    message: t.String(),
  },
  { examples: [{ line: 42, offset: 81234, reason: 'invalid_json', message: "JSON Parse error: Expected '}'" }] },
)

export const FileSchema = t.Object(
  {
    id: t.String(),
    name: t.String({ description: "The client's file name or the server path (metadata only)" }),
    size: Integer(),
    status: t.Union([t.Literal('pending'), t.Literal('processing'), t.Literal('completed'), t.Literal('error')]),
    bytes_done: Integer(),
    lines_done: Integer(),
    messages_added: Integer(),
    tool_calls_added: Integer(),
    lines_skipped: Integer(),
    conversation_ids: t.Array(t.String(), {
      description: 'The conversations its file added messages to (none while this record has added none)',
    }),
    error: t.Union([t.String(), t.Null()]),
    first_errors: t.Array(LineErrorSchema),
    created_at: Timestamp,
    updated_at: Timestamp,
    finished_at: t.Union([Timestamp, t.Null()]),
  },
  {
    examples: [
      {
        id: '0190f5c2-0000-7000-8000-0000000000f1',
        name: 'ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl',
        size: 2742311,
        status: 'completed',
        bytes_done: 2742311,
        lines_done: 2385,
        messages_added: 2359,
        tool_calls_added: 242,
        lines_skipped: 0,
        conversation_ids: ['ae4a77f8-aedd-4bc1-888f-c94edc91af04'],
        error: null,
        first_errors: [],
        created_at: '2026-01-01T12:00:00.000Z',
        updated_at: '2026-01-01T12:00:01.000Z',
        finished_at: '2026-01-01T12:00:01.000Z',
      },
    ],
  },
)

export const SourceKey = t.String({
  minLength: 1,
  maxLength: 1024,
  description: 'Your name for this file (e.g. its path): sending the same key again imports only what was appended',
})

export const UploadOffset = t.String({
  pattern: '^[0-9]{1,15}$',
  maxLength: 15,
  description:
    'Sends only the bytes of the file from this offset on: the server must hold exactly this many bytes under ' +
    '`source_key` (GET /api/files/source), else 409. Needs `fingerprint`. Sent before `file`, the bytes are not ' +
    'judged as the start of a transcript (they may begin in the middle of a line).',
})

export const Fingerprint = t.String({
  pattern: '^[0-9a-f]{64}$',
  maxLength: 64,
  description:
    'SHA-256 (hex) of the decimal byte count, the first 64 KiB and the last 64 KiB of those bytes: it proves the ' +
    'server holds the start of the same file',
})

export const SourceSchema = t.Object(
  {
    source_key: SourceKey,
    size: Integer({ description: 'Bytes of this file the server holds (what its uploads sent)' }),
    fingerprint: Fingerprint,
    file_id: t.String({ description: 'The latest upload under this key' }),
  },
  {
    examples: [
      {
        source_key: '/home/ada/.claude/projects/-home-ada-app/ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl',
        size: 2742311,
        fingerprint: '9f2c6b1e4d0a7c3e8b5f1a2d6c9e0b4f7a3d8c1e5b2f6a9d0c4e7b1f3a8d5c2e',
        file_id: '0190f5c2-0000-7000-8000-0000000000f1',
      },
    ],
  },
)

export const FileModel = {
  'file.File': FileSchema,
  'file.UploadHeaders': MachineHeaders,
  'file.Page': Page(FileSchema),
  'file.ErrorPage': Page(LineErrorSchema),
  // documents the form and types Eden's client; the route reads the body itself (see upload-form.ts)
  'file.Upload': t.NoValidate(
    t.Object({
      file: t.File({ description: 'A Claude Code transcript (.jsonl)' }),
      source_key: t.Optional(SourceKey),
      offset: t.Optional(UploadOffset),
      fingerprint: t.Optional(Fingerprint),
    }),
  ),
  'file.Source': SourceSchema,
  'file.SourceQuery': t.Object({ source_key: SourceKey }),
  'file.ImportPath': t.Object(
    { path: t.String({ minLength: 1, maxLength: 4096, description: 'A file or folder under IMPORT_ROOTS' }) },
    { additionalProperties: false, examples: [{ path: '/srv/claude/projects' }] },
  ),
  'file.ImportPathResult': t.Object(
    { items: t.Array(FileSchema), total: Integer() },
    { examples: [{ items: FileSchema.examples, total: 1 }] },
  ),
  'file.ListQuery': t.Object({ ...PageQuery }),
  'file.ErrorsQuery': t.Object({
    ...PageQuery,
    from_offset: t.Optional(
      t.Integer({
        minimum: 0,
        maximum: Number.MAX_SAFE_INTEGER,
        description:
          'Only the bad lines at this byte offset of the file or after (an upload that sent the file from there)',
      }),
    ),
  }),
}

export type FileDto = typeof FileSchema.static
export type LineErrorDto = typeof LineErrorSchema.static

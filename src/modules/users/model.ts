import { t } from 'elysia'
import { Page, PageQuery, Timestamp } from '../../lib/models'

export const RoleSchema = t.Union([t.Literal('admin'), t.Literal('member'), t.Literal('viewer')])
export const Email = t.String({ format: 'email', maxLength: 254, examples: ['ada@example.com'] })
export const Password = t.String({ minLength: 8, maxLength: 256, description: '8–256 characters' })
const DisplayName = t.String({ minLength: 1, maxLength: 100 })

export const User = t.Object(
  {
    id: t.String(),
    email: t.String(),
    display_name: t.String(),
    role: RoleSchema,
    disabled: t.Boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  {
    examples: [
      {
        id: '0190f5c2-0000-7000-8000-000000000001',
        email: 'ada@example.com',
        display_name: 'Ada',
        role: 'admin',
        disabled: false,
        created_at: '2026-01-01T12:00:00.000Z',
        updated_at: '2026-01-01T12:00:00.000Z',
      },
    ],
  },
)

export const UserModel = {
  'user.User': User,
  'user.Page': Page(User),
  'user.Register': t.Object(
    { email: Email, password: Password, display_name: DisplayName },
    {
      additionalProperties: false,
      examples: [{ email: 'ada@example.com', password: 'correct horse battery', display_name: 'Ada' }],
    },
  ),
  'user.Create': t.Object(
    { email: Email, password: Password, display_name: DisplayName, role: t.Optional(RoleSchema) },
    {
      additionalProperties: false,
      examples: [{ email: 'bob@example.com', password: 'a long passphrase', display_name: 'Bob', role: 'member' }],
    },
  ),
  'user.Update': t.Object(
    { display_name: t.Optional(DisplayName), role: t.Optional(RoleSchema), disabled: t.Optional(t.Boolean()) },
    { additionalProperties: false, minProperties: 1, examples: [{ role: 'viewer' }] },
  ),
  'user.ListQuery': t.Object({ ...PageQuery }),
}

export type UserDto = typeof User.static
export type RegisterInput = (typeof UserModel)['user.Register']['static']
export type CreateUserInput = (typeof UserModel)['user.Create']['static']
export type UpdateUserInput = (typeof UserModel)['user.Update']['static']

/**
 * Compiled by `tsc --noEmit` in the test command, never run: a small frontend-style consumer of the published
 * client. If the server's types stop reaching `createClient`, this file stops compiling.
 */
import { type Client, createClient } from 'observatory/client'

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
const assertType = <T extends true>(_proof?: T) => {}

export async function consumer(api: Client = createClient('http://localhost:3001', { apiKey: 'obs_example' })) {
  const list = await api.api.conversations.get({ query: { limit: 10, sort_by: 'title' } })
  if (list.data) {
    const first = list.data.items[0]
    assertType<Equals<typeof list.data.total, number>>()
    assertType<Equals<NonNullable<typeof first>['title'], string | null>>()
    assertType<Equals<NonNullable<typeof first>['created_at'], string>>()
    // @ts-expect-error a title is not a number
    const wrong: number = first?.title
    void wrong
  }
  if (list.error?.status === 422) {
    const code = list.error.value.code
    assertType<Equals<typeof code, string>>()
  }

  const one = await api.api.conversations({ id: 'some-id' }).get()
  if (one.error?.status === 404) {
    // the error status narrows the error value to the shared error body
    const success = one.error.value.success
    assertType<Equals<typeof success, false>>()
  }

  const added = await api.api.conversations({ id: 'some-id' }).messages.post({ role: 'user', content: 'hello' })
  if (added.data) assertType<Equals<typeof added.data.role, 'user' | 'assistant' | 'system' | null>>()

  // @ts-expect-error role must be one of the declared literals
  await api.api.conversations({ id: 'some-id' }).messages.post({ role: 'robot', content: 'hello' })
}

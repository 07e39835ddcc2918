// One typed query: `citizen` is typed from the SDL by graphql-codegen (src/gql/ is generated).
import { graphql } from './gql'
import type { ResultOf } from '@graphql-typed-document-node/core'
import { print } from 'graphql'

export const CitizenCard = graphql(`
  query CitizenCard($nik: String!) {
    citizen(nik: $nik) { nik fullName age kelurahan { name } applications { number status dueDate } }
  }
`)

export async function citizenCard(hubUrl: string, token: string, purpose: string, nik: string) {
  const response = await fetch(`${hubUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-access-purpose': purpose },
    body: JSON.stringify({ query: print(CitizenCard), variables: { nik } }),
  })
  const body = (await response.json()) as { data?: ResultOf<typeof CitizenCard>; errors?: { extensions?: { code?: string } }[] }
  if (body.errors?.length) throw new Error(body.errors[0].extensions?.code ?? 'GRAPHQL_ERROR')
  return body.data!.citizen // { nik: string; fullName: string | null; age: number | null; ... } | null
}

// Hive Gateway in front of Simpul and the posyandu subgraph. The gateway holds no
// authority of its own over Simpul's data: it forwards the caller's token and purpose
// (and case) on every subgraph request, and Simpul answers `_entities` under them.
// Compose first: node compose.mjs simpul=simpul.graphql posyandu=posyandu.graphql > supergraph.graphql
import { defineConfig } from '@graphql-hive/gateway'

export const gatewayConfig = defineConfig({
  supergraph: './supergraph.graphql',
  propagateHeaders: {
    fromClientToSubgraphs({ request }) {
      return {
        authorization: request.headers.get('authorization'),
        'x-access-purpose': request.headers.get('x-access-purpose'),
        'x-access-case': request.headers.get('x-access-case'),
      }
    },
  },
})

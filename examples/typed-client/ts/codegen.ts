// graphql-codegen for a front-end: typed documents from the population officer's SDL.
//   npm install -D @graphql-codegen/cli @graphql-codegen/client-preset && npx graphql-codegen
import type { CodegenConfig } from '@graphql-codegen/cli'

const config: CodegenConfig = {
  schema: '../schema.graphql', // hub schema --role population_officer > schema.graphql
  documents: ['src/**/*.ts'],
  generates: {
    './src/gql/': {
      preset: 'client',
      config: { enumsAsTypes: true, useTypeImports: true },
    },
  },
}
export default config

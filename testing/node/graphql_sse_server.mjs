// The graphql-sse npm package's own handler (createHandler for Node http) serving a schema with
// one subscription, for tests/integrations/test_graphql_sse_profile.py.
// Usage: node testing/node/graphql_sse_server.mjs PORT  (binds 127.0.0.1; path /graphql/stream)
import http from 'node:http';
import { GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { createHandler } from 'graphql-sse/lib/use/http';

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: { hello: { type: GraphQLString, resolve: () => 'world' } },
  }),
  subscription: new GraphQLObjectType({
    name: 'Subscription',
    fields: {
      greetings: {
        type: GraphQLString,
        subscribe: async function* () {
          for (const hi of ['Hi', 'Bonjour', 'Hola', 'Ciao', 'Zdravo']) {
            await new Promise((resolve) => setTimeout(resolve, 50));
            yield { greetings: hi };
          }
        },
      },
    },
  }),
});

const handler = createHandler({ schema });
const port = Number(process.argv[2] ?? 4000);
const server = http.createServer((req, res) => {
  if (req.url?.startsWith('/graphql/stream')) {
    handler(req, res);
    return;
  }
  res.writeHead(404).end();
});
server.listen(port, '127.0.0.1', () => console.log(`graphql-sse on http://127.0.0.1:${port}/graphql/stream`));
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.closeAllConnections?.();
    server.close(() => process.exit(0));
  });
}

// Compose subgraph SDL files into a supergraph with @theguild/federation-composition
// (the composition library of Hive's gateway):
//   node compose.mjs name=path.graphql [name=path.graphql ...]
// Prints the supergraph SDL and exits 0, or prints the errors and exits 1.
import { readFileSync } from "node:fs";
import { parse } from "graphql";
import { composeServices } from "@theguild/federation-composition";

const services = process.argv.slice(2).map((arg) => {
  const [name, path] = arg.split("=");
  return { name, url: `http://${name}.local/graphql`, typeDefs: parse(readFileSync(path, "utf8")) };
});
const result = composeServices(services);
if (result.errors && result.errors.length) {
  for (const error of result.errors) console.error(`ERROR ${error.extensions?.code ?? ""} ${error.message}`);
  process.exit(1);
}
process.stdout.write(result.supergraphSdl);

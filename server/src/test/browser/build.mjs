// Bundles the page (app.jsx with React and the SDK from node_modules) into <outDir>/app.js next to index.html.
// Usage: node build.mjs <outDir>
import { build } from "esbuild";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const outDir = process.argv[2];
if (!outDir) {
  console.error("usage: node build.mjs <outDir>");
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
await build({
  entryPoints: [new URL("./app.jsx", import.meta.url).pathname],
  bundle: true,
  format: "esm",
  jsx: "automatic",
  define: { "process.env.NODE_ENV": '"development"' },
  outfile: join(outDir, "app.js"),
  logLevel: "warning",
});
writeFileSync(join(outDir, "index.html"), `<!doctype html>
<html><head><meta charset="utf-8"><title>Fluxgraph useStream check</title></head>
<body><div id="root"></div><script type="module" src="/app.js"></script></body></html>
`);
console.log(`bundled into ${outDir}`);

/**
 * Layering rules of tensorgrad (docs/ARCHITECTURE.md, "Layers"), checked by `npm run lint:deps`
 * (part of `npm test`, so CI fails on an import cycle or an upward import).
 *
 *   core/       dtype, shape, profiler: the bottom layer, imports nothing else in src/
 *   backends/   the kernel contract, the registry and the implementations: imports only core/
 *   tensor/, autograd/   Tensor, creation, tidy; graph recording, backward, the ops
 *   nn/, optim/, data/, train/, tasks/, cli/   above; nn never imports a backend
 *
 * Type-only imports (`import type`) vanish at compile time, so they may point both ways within
 * a layer without forming a run-time cycle; they still count for the layer rules.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: modules of a cycle see each other half-initialised depending on which is imported first.',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'core-is-the-bottom',
      severity: 'error',
      comment: 'core/ (dtype, shape, profile) is what every layer may use; it imports nothing else in src/.',
      from: { path: '^src/core/' },
      to: { path: '^src/', pathNot: '^src/core/' },
    },
    {
      name: 'backends-import-only-core',
      severity: 'error',
      comment: 'A backend is a handful of kernels on storage: it may use core/ and backends/, nothing above.',
      from: { path: '^src/backends/' },
      to: { path: '^src/', pathNot: '^src/(core|backends)/' },
    },
    {
      name: 'contract-imports-no-implementation',
      severity: 'error',
      comment: 'The contract (types) must not pull in an implementation or the registry.',
      from: { path: '^src/backends/contract\\.ts$' },
      to: { path: '^src/backends/(cpu|gpu)/|^src/backends/(registry|index|info)\\.ts$' },
    },
    {
      name: 'no-backend-internals-outside-backends',
      severity: 'error',
      comment: 'Above backends/, code goes through the contract (backends/index.ts): a CPU or GPU internal would tie it to one backend.',
      from: { path: '^src/', pathNot: '^src/backends/' },
      to: { path: '^src/backends/(cpu|gpu)/' },
    },
    {
      name: 'nn-never-imports-a-backend',
      severity: 'error',
      comment: 'Layers and models are written against Tensor ops; they run on whichever backend holds the data.',
      from: { path: '^src/nn/' },
      to: { path: '^src/backends/' },
    },
    {
      name: 'tensor-autograd-below-models',
      severity: 'error',
      comment: 'Tensor and autograd are below nn, optim, data, train, tasks and cli.',
      from: { path: '^src/(tensor|autograd)/' },
      to: { path: '^src/(nn|optim|data|train|tasks|cli)/' },
    },
    {
      name: 'library-below-cli',
      severity: 'error',
      comment: 'Only the CLI imports the CLI; library code never depends on it.',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'browser-core-imports-no-node',
      severity: 'error',
      comment: 'The browser entry (src/browser.ts) and everything it reaches import no Node builtin (issue #20): Node-only code sits behind src/index.ts; files are reached through src/core/node-fs.ts at run time.',
      from: { path: '^src/browser\\.ts$' },
      to: { reachable: true, path: '^(node:)?(fs|path|url|os|module|crypto|zlib|http|net|worker_threads|child_process|stream|util|events|buffer|process|readline|perf_hooks|assert|v8|vm|tty)$' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.d\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};

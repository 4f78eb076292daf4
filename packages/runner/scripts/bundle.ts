/**
 * Builds the single-file CLI bundle for machines that have a Node binary and nothing
 * else (air-gapped GPU boxes): dist/prunefuse.mjs plus the native and WebAssembly
 * files it loads at run time, each placed where the bundled code looks for it.
 */
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const runnerDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = path.resolve(runnerDir, '../..');
const outDir = path.resolve(process.argv[2] ?? path.join(repoRoot, 'dist'));
const engineRequire = createRequire(path.join(repoRoot, 'packages/engine/package.json'));

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

await build({
  entryPoints: [path.join(runnerDir, 'src/bin.ts')],
  outfile: path.join(outDir, 'prunefuse.mjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  conditions: ['source'],
  external: ['*.node', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
  // tfjs-backend-cpu lists only some of its files as having side effects, so esbuild drops
  // the bare import that registers the backend (the bundle then had no 'cpu' backend):
  // side-effect annotations are not trusted here.
  ignoreAnnotations: true,
  // CommonJS dependencies inside an ESM bundle still call require() and read __dirname.
  banner: {
    js: [
      "import { createRequire as __createRequire } from 'node:module';",
      "import { fileURLToPath as __fileURLToPath } from 'node:url';",
      "import { dirname as __pathDirname } from 'node:path';",
      'const require = __createRequire(import.meta.url);',
      'const __filename = __fileURLToPath(import.meta.url);',
      'const __dirname = __pathDirname(__filename);',
    ].join(' '),
  },
  logLevel: 'warning',
});

// tfjs-backend-wasm reads its binaries from the folder the engine resolves at run
// time, which inside the bundle is the bundle's own folder.
const wasmDir = path.dirname(
  engineRequire.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'),
);
for (const file of [
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
]) {
  copyFileSync(path.join(wasmDir, file), path.join(outDir, file));
}

// The report's ejs templates, which the report package looks for beside itself.
cpSync(path.join(repoRoot, 'packages/report/templates'), path.join(outDir, 'templates'), {
  recursive: true,
});

// Emscripten's threaded glue (.js) is CommonJS; a package.json with "type": "module"
// above the bundle's folder would make Node load it as ESM and fail.
writeFileSync(path.join(outDir, 'package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);

// The PyTorch twin of the model bench cases, which the models package looks for beside itself.
cpSync(path.join(repoRoot, 'packages/models/torch'), path.join(outDir, 'torch'), {
  recursive: true,
});

// Threaded wasm: the pthread worker script and the threaded build's Emscripten glue,
// which the engine looks for beside itself.
copyFileSync(
  path.join(repoRoot, 'packages/engine/src/wasm/pthread-worker.cjs'),
  path.join(outDir, 'pthread-worker.cjs'),
);
const wasmOut = path.join(path.dirname(wasmDir), 'wasm-out');
for (const file of [
  'tfjs-backend-wasm-threaded-simd.js',
  'tfjs-backend-wasm-threaded-simd.worker.js',
]) {
  copyFileSync(path.join(wasmOut, file), path.join(outDir, file));
}

// The `webgpu` package loads dist/<platform>-<arch>/dawn.node relative to its own module,
// which inside the bundle is the bundle's folder.
const webgpuDir = path.dirname(engineRequire.resolve('webgpu'));
const dawnRelative = path.join('dist', `${process.platform}-${process.arch}`);
const dawnSource = path.join(webgpuDir, dawnRelative, 'dawn.node');
if (existsSync(dawnSource)) {
  mkdirSync(path.join(outDir, dawnRelative), { recursive: true });
  cpSync(path.join(webgpuDir, dawnRelative), path.join(outDir, dawnRelative), { recursive: true });
}

const size = (file: string) =>
  `${(statSync(path.join(outDir, file)).size / 2 ** 20).toFixed(1)} MiB`;
process.stderr.write(
  `bundle written to ${outDir}: prunefuse.mjs (${size('prunefuse.mjs')}), wasm binaries, ` +
    `${existsSync(dawnSource) ? `${dawnRelative}/dawn.node` : 'no dawn.node for this platform'}\n`,
);

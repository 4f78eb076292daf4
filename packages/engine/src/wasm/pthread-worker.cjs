'use strict';
// One pthread of tfjs-backend-wasm's threaded build, for Node. Emscripten's own worker
// script (shipped as a string beside the glue) expects to be started from a blob: URL and
// to import the glue from another blob; Node's worker_threads accept neither, so this file
// is started instead (see threads.ts) and loads the glue from its file path.
const path = require('node:path');
const { workerData } = require('node:worker_threads');

const gluePath = workerData.tfjsThreadedGlue;
const { wasmWorkerContents } = require(
  path.join(path.dirname(gluePath), 'tfjs-backend-wasm-threaded-simd.worker.js'),
);
const LOAD_GLUE_FROM_BLOB =
  'if(typeof e.data.urlOrBlob=="string"){importScripts(e.data.urlOrBlob)}else{var objectUrl=URL.createObjectURL(e.data.urlOrBlob);importScripts(objectUrl);URL.revokeObjectURL(objectUrl)}';
if (!wasmWorkerContents.includes(LOAD_GLUE_FROM_BLOB)) {
  throw new Error(`${gluePath}: unexpected Emscripten worker script; cannot start wasm threads`);
}
// The script is kept as a template literal in which "\n" inside string literals became
// real newlines; escaping them back restores the source, as tfjs does for its blob.
const source = wasmWorkerContents
  .replace(/\n/g, '\\n')
  .replace(
    LOAD_GLUE_FROM_BLOB,
    'globalThis.WasmBackendModuleThreadedSimd=require(__tfjsThreadedGlue);',
  );
new Function('require', '__filename', '__tfjsThreadedGlue', source)(require, __filename, gluePath);

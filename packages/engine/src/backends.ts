import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  adapterForGpu,
  describeAdapters,
  type GpuAdapter,
  type GpuChoice,
  parseGpuChoice,
  resolveGpuChoice,
} from './gpu-choice.js';
import { tf } from './tf.js';
import {
  GPU_DEVICE_NODES,
  gpuDeviceNode,
  installedVulkanDrivers,
  noAdapterHint,
} from './vulkan-drivers.js';
import { registerWasmTrainingKernels } from './wasm/register.js';
import { configureWasmThreads, wasmThreadsWanted } from './wasm/threads.js';
import { registerWebgpuTrainingKernels } from './webgpu/register.js';

/** Backends, best first. `auto` takes the first that initialises and trains a tiny conv. */
export const BACKEND_NAMES = ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export type BackendChoice = BackendName | 'auto';

export interface BackendReport {
  name: BackendName;
  available: boolean;
  selected: boolean;
  /** Why it is unavailable; null when it is available. */
  reason: string | null;
  /** The device it runs on (GPU adapter name where there is one); null when unavailable. */
  device: string | null;
  /** A GPU backend running on a CPU emulation of a GPU: works, but `auto` passes it over. */
  emulated: boolean;
  /** webgpu: every adapter Dawn lists here, in its order (GPU indices count these). */
  adapters?: GpuAdapter[];
  /** webgpu: the GPU asked for (--gpu, PRUNEFUSE_GPU) and its adapter; absent for the default. */
  gpu?: GpuRecord;
  /** false: not tried (webgpu without a GPU device, unless asked for), so not known to fail. */
  probed?: false;
}

/** The GPU a webgpu run computes on: what was asked for and the adapter that answered. */
export interface GpuRecord {
  /** The GPU's index among the node's GPUs. */
  index: number;
  /** What named it: `--gpu`, PRUNEFUSE_GPU or the scheduler's variable (SLURM_STEP_GPUS, ...). */
  source: string;
  /** The WebGPU adapter's name as Dawn lists it. */
  adapter: string;
}

export class BackendUnavailableError extends Error {
  constructor(
    readonly backend: BackendName,
    readonly reason: string,
  ) {
    super(`backend '${backend}' is unavailable: ${reason}`);
    this.name = 'BackendUnavailableError';
  }
}

export function isBackendChoice(value: string): value is BackendChoice {
  return value === 'auto' || (BACKEND_NAMES as readonly string[]).includes(value);
}

/** Parses a user-supplied backend name, naming where it came from when it is wrong. */
export function parseBackendChoice(value: string, source: string): BackendChoice {
  if (!isBackendChoice(value)) {
    throw new Error(
      `${source}: unknown backend '${value}'; expected one of auto, ${BACKEND_NAMES.join(', ')}`,
    );
  }
  return value;
}

/** The backend asked for by PRUNEFUSE_BACKEND, or 'auto'. */
export function backendChoiceFromEnv(env: NodeJS.ProcessEnv = process.env): BackendChoice {
  const value = env.PRUNEFUSE_BACKEND;
  return value ? parseBackendChoice(value, 'PRUNEFUSE_BACKEND') : 'auto';
}

const prepared = new Map<BackendName, Promise<string>>();
/**
 * Backends that work but emulate a GPU on the CPU (Mesa's llvmpipe, SwiftShader): slower
 * than wasm, so `auto` passes them over; `--backend webgpu` still uses them.
 */
const emulated = new Set<BackendName>();
let activeDevice: string | null = null;
/** The GPU asked for (useGpu, else PRUNEFUSE_GPU); read when webgpu is prepared. */
let gpuChoice: { choice: GpuChoice; source: string } | null = null;
let webgpuGpu: GpuRecord | null = null;

/**
 * Which GPU the webgpu backend takes: an index, `auto` (the scheduler's, see
 * gpu-choice.ts) or null for Dawn's default adapter. Without a call, PRUNEFUSE_GPU
 * decides. Must come before the backend is prepared: a process keeps one adapter.
 */
export function useGpu(choice: GpuChoice | null, source = '--gpu'): void {
  if (prepared.has('webgpu') && (requestedGpu()?.choice ?? null) !== choice) {
    throw new Error(
      `${source}: the webgpu backend is already running on ${webgpuGpu?.adapter ?? 'the default adapter'}; ` +
        'a process keeps the adapter it started with',
    );
  }
  gpuChoice = choice === null ? null : { choice, source };
}

function requestedGpu(): { choice: GpuChoice; source: string } | null {
  if (gpuChoice) return gpuChoice;
  const value = process.env.PRUNEFUSE_GPU;
  if (!value) return null;
  return { choice: parseGpuChoice(value, 'PRUNEFUSE_GPU'), source: 'PRUNEFUSE_GPU' };
}

/**
 * Makes `name` the active tfjs backend, or throws BackendUnavailableError with a reason
 * a user can act on. Preparation (loading native code, finding an adapter) happens
 * once per process; the smoke test proves the backend can train, not just load.
 */
export async function useBackend(name: BackendName): Promise<string> {
  let preparation = prepared.get(name);
  if (!preparation) {
    preparation = prepare(name).then(async (device) => {
      applyTfjsFlags();
      await activate(name);
      await smokeTest(name);
      return device;
    });
    prepared.set(name, preparation);
  }
  const device = await preparation;
  await activate(name);
  activeDevice = device;
  return device;
}

const NOT_PROBED =
  `no GPU device here (none of ${GPU_DEVICE_NODES.join(', ')}), so Dawn was not loaded; ` +
  '--backend webgpu tries it anyway';

/** Selects a backend: a forced one must work, `auto` takes the best that does. */
export async function selectBackend(choice: BackendChoice = backendChoiceFromEnv()): Promise<{
  name: BackendName;
  device: string;
}> {
  if (choice !== 'auto') return { name: choice, device: await useBackend(choice) };
  const reasons: string[] = [];
  for (const name of BACKEND_NAMES) {
    if (name === 'webgpu' && gpuDeviceNode() === null) {
      reasons.push(`webgpu: ${NOT_PROBED}`);
      continue;
    }
    try {
      const device = await useBackend(name);
      if (emulated.has(name)) {
        reasons.push(`${name}: ${device}`);
        continue;
      }
      return { name, device };
    } catch (error) {
      if (!(error instanceof BackendUnavailableError)) throw error;
      reasons.push(`${name}: ${error.reason}`);
    }
  }
  throw new Error(`no backend could be initialised:\n  ${reasons.join('\n  ')}`);
}

/**
 * Every backend with its availability; the selected one is left active. Without a GPU
 * device, webgpu is probed only when it is the choice or `probeWebgpu` asks for it.
 */
export async function probeBackends(
  choice: BackendChoice = backendChoiceFromEnv(),
  options: { probeWebgpu?: boolean } = {},
): Promise<BackendReport[]> {
  const reports: BackendReport[] = [];
  const quiet = choice !== 'webgpu' && !options.probeWebgpu && gpuDeviceNode() === null;
  for (const name of BACKEND_NAMES) {
    if (name === 'webgpu' && quiet) {
      reports.push({
        name,
        available: false,
        selected: false,
        reason: `${NOT_PROBED} (backends: --verbose)`,
        device: null,
        emulated: false,
        probed: false,
      });
      continue;
    }
    try {
      const device = await useBackend(name);
      reports.push({
        name,
        available: true,
        selected: false,
        reason: null,
        device,
        emulated: emulated.has(name),
        ...(name === 'webgpu' ? await webgpuAdapterReport() : {}),
      });
    } catch (error) {
      if (!(error instanceof BackendUnavailableError)) throw error;
      reports.push({
        name,
        available: false,
        selected: false,
        reason: error.reason,
        device: null,
        emulated: false,
        // An adapter that cannot be used is best explained beside the ones there are.
        ...(name === 'webgpu' ? await webgpuAdapterReport().catch(() => ({})) : {}),
      });
    }
  }
  const chosen =
    choice === 'auto'
      ? reports.find((r) => r.available && !emulated.has(r.name))
      : reports.find((r) => r.name === choice);
  if (chosen?.available) {
    chosen.selected = true;
    await useBackend(chosen.name);
  }
  return reports;
}

/**
 * The active backend's name and device, or null before any selection; with the GPU it
 * was asked to take when that is webgpu's adapter (no `gpu` for the default adapter).
 */
export function activeBackend(): { name: BackendName; device: string; gpu?: GpuRecord } | null {
  const name = tf.getBackend() as BackendName | undefined;
  if (!name || activeDevice === null) return null;
  return {
    name,
    device: activeDevice,
    ...(name === 'webgpu' && webgpuGpu ? { gpu: webgpuGpu } : {}),
  };
}

async function activate(name: BackendName): Promise<void> {
  if (tf.getBackend() === name) return;
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
  } catch (error) {
    throw new BackendUnavailableError(name, `initialisation failed: ${messageOf(error)}`);
  }
  if (!ok) throw new BackendUnavailableError(name, 'tfjs could not initialise it');
}

async function smokeTest(name: BackendName): Promise<void> {
  try {
    const gradient = tf.tidy(() => {
      const x = tf.ones([1, 5, 5, 2]) as tf.Tensor4D;
      const w = tf.ones([3, 3, 2, 3]) as tf.Tensor4D;
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same')),
      );
      return grads([x, w])[1]!;
    });
    const values = await gradient.data();
    gradient.dispose();
    // The centre tap of the filter gradient sees all 25 pixels of the all-ones input.
    if (values[4 * 2 * 3] !== 25) throw new Error(`wrong filter gradient ${values[4 * 2 * 3]}`);
  } catch (error) {
    throw new BackendUnavailableError(name, `failed a conv training step: ${messageOf(error)}`);
  }
}

/**
 * PRUNEFUSE_TFJS_FLAGS="NAME=value,..." sets tfjs environment flags (e.g.
 * WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=64): the way to try a backend's tuning knobs without
 * editing code. A backend registers its flags when it loads, so each flag is set as soon
 * as a loaded backend knows it.
 */
function applyTfjsFlags(spec = process.env.PRUNEFUSE_TFJS_FLAGS): void {
  if (!spec) return;
  const registry = (tf.env() as unknown as { flagRegistry: Record<string, unknown> }).flagRegistry;
  for (const entry of spec
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const match = /^([A-Z0-9_]+)=(.+)$/.exec(entry);
    if (!match) throw new Error(`PRUNEFUSE_TFJS_FLAGS: '${entry}' is not NAME=value`);
    const flag = match[1]!;
    const raw = match[2]!;
    if (!(flag in registry)) continue;
    const value =
      raw === 'true'
        ? true
        : raw === 'false'
          ? false
          : Number.isNaN(Number(raw))
            ? raw
            : Number(raw);
    tf.env().set(flag, value);
  }
}

function prepare(name: BackendName): Promise<string> {
  switch (name) {
    case 'tensorflow':
      return prepareTensorflow();
    case 'webgpu':
      return prepareWebgpu();
    case 'wasm':
      return prepareWasm();
    case 'cpu':
      return Promise.resolve(`CPU (JavaScript, ${cpuSummary()})`);
  }
}

const TENSORFLOW_HINT =
  'not installed; for CUDA 11.2 + cuDNN 8.1 run `pnpm add -w @tensorflow/tfjs-node-gpu@4.22.0` ' +
  '(or `pnpm add -w @tensorflow/tfjs-node@4.22.0` for libtensorflow on the CPU); ' +
  'both download libtensorflow at install time and need internet';

async function prepareTensorflow(): Promise<string> {
  for (const [pkg, device] of [
    ['@tensorflow/tfjs-node-gpu', 'CUDA GPU (libtensorflow, tfjs-node-gpu)'],
    ['@tensorflow/tfjs-node', `CPU (libtensorflow, ${cpuSummary()})`],
  ] as const) {
    const resolved = resolveOptional(pkg);
    if (!resolved) continue;
    try {
      await import(resolved);
    } catch (error) {
      throw new BackendUnavailableError(
        'tensorflow',
        `${pkg} is installed but failed to load: ${messageOf(error)}`,
      );
    }
    return device;
  }
  throw new BackendUnavailableError('tensorflow', TENSORFLOW_HINT);
}

/** Resolves an optional package from the user's project first, then from this package. */
function resolveOptional(pkg: string): string | null {
  for (const base of [path.join(process.cwd(), 'package.json'), fileURLToPath(import.meta.url)]) {
    try {
      return createRequire(base).resolve(pkg);
    } catch {
      // not installed from this base
    }
  }
  return null;
}

async function prepareWebgpu(): Promise<string> {
  let dawn: typeof import('webgpu');
  try {
    dawn = await import('webgpu');
  } catch (error) {
    throw new BackendUnavailableError(
      'webgpu',
      `could not load Dawn (npm package 'webgpu', dawn.node): ${messageOf(error)}. It is an ` +
        'optional dependency, installed where its prebuilt binary fits the platform: run ' +
        "'pnpm install' again, or use another backend (--backend wasm)",
    );
  }
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create([...(await adapterFlags(dawn)), ...DAWN_TOGGLES]);
  const adapter = await gpu.requestAdapter(ADAPTER_OPTIONS);
  if (!adapter) {
    throw new BackendUnavailableError(
      'webgpu',
      `no WebGPU adapter: ${
        noAdapterHint(installedVulkanDrivers()) ??
        'Dawn found no GPU through Vulkan (is a GPU driver and libvulkan1 installed?)'
      }`,
    );
  }
  // The tfjs webgpu backend registers itself on import only if navigator.gpu exists.
  Object.defineProperty(globalThis, 'navigator', {
    value: { ...(globalThis as { navigator?: object }).navigator, gpu },
    configurable: true,
    writable: true,
  });
  await import('@tensorflow/tfjs-backend-webgpu');
  registerWebgpuTrainingKernels();
  // tfjs submits its command buffer every 15 dispatches by default; on an H200 each
  // submit cost about a millisecond of host time, and a ResNet-20 step runs ~1,000
  // dispatches (ResNet-20 step 506 -> 385 ms at 512). PRUNEFUSE_TFJS_FLAGS overrides it.
  tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', 512);
  const info = adapter.info;
  const label = [info.vendor, info.architecture, info.device, info.description]
    .filter((part) => part && part.length > 0)
    .join(' ');
  if (info.architecture === 'software' || /llvmpipe|swiftshader/i.test(label)) {
    emulated.add('webgpu');
    return `CPU-emulated GPU ${label} (WebGPU via Dawn; auto passes it over)`;
  }
  return `GPU ${label || 'unknown adapter'} (WebGPU via Dawn)`;
}

const ADAPTER_OPTIONS = { powerPreference: 'high-performance' } as const;

/**
 * Dawn rounds timestamp query results down to multiples of 65,536 ns unless told not to
 * (a browser's guard against timing attacks): per-kernel GPU times in `profile` need them
 * finer than that (a ResNet-8 step on llvmpipe: every dispatch time a multiple of 0.065536 ms
 * with it, nanosecond-grained without).
 */
const DAWN_TOGGLES = ['disable-dawn-features=timestamp_quantization'];

/**
 * Dawn's flags that make it take the GPU requested (none for the default adapter).
 * dawn.node picks an adapter by name only: `adapter=<name>` takes the first adapter whose
 * name contains it. So GPU i is reachable when no adapter before it shares its name;
 * among identical GPUs only the first is, and the others must be hidden from the task.
 */
async function adapterFlags(dawn: typeof import('webgpu')): Promise<string[]> {
  const requested = requestedGpu();
  const request = requested && resolveGpuChoice(requested.choice, requested.source);
  if (!request) return [];
  const adapters = await listDawnAdapters(dawn);
  let chosen: { position: number; adapter: GpuAdapter };
  try {
    chosen = adapterForGpu(request, adapters);
  } catch (error) {
    throw new BackendUnavailableError('webgpu', messageOf(error));
  }
  const first = adapters.findIndex((a) => a.name.includes(chosen.adapter.name));
  if (first !== chosen.position) {
    throw new BackendUnavailableError(
      'webgpu',
      `GPU ${request.index} (${request.source}) is adapter ${chosen.position}, ` +
        `'${chosen.adapter.name}', but adapter ${first} bears that name too, and Dawn's node ` +
        'binding selects adapters by name only. Let each task see only its own GPU (Slurm: ' +
        'ConstrainDevices=yes in cgroup.conf; containers: one device each); it is then the ' +
        `only adapter, which --gpu auto takes. Adapters: ${describeAdapters(adapters)}`,
    );
  }
  webgpuGpu = { index: request.index, source: request.source, adapter: chosen.adapter.name };
  return [`adapter=${chosen.adapter.name}`];
}

/** Every adapter Dawn offers here, in its order, and the GPU webgpu was asked to take. */
async function webgpuAdapterReport(): Promise<Pick<BackendReport, 'adapters' | 'gpu'>> {
  const adapters = await listDawnAdapters(await import('webgpu'));
  return { adapters, ...(webgpuGpu ? { gpu: webgpuGpu } : {}) };
}

/**
 * dawn.node has no call that lists adapters; asked for an adapter name that none has, it
 * rejects with the list ("Available adapters:" then " * backend: 'vulkan', name: '...'"
 * per adapter), which is read here.
 */
async function listDawnAdapters(dawn: typeof import('webgpu')): Promise<GpuAdapter[]> {
  const probe = dawn.create([`adapter=prunefuse-no-such-adapter-${process.pid}-${Date.now()}`]);
  try {
    await probe.requestAdapter(ADAPTER_OPTIONS);
    return []; // resolved (with null): Dawn has no adapter at all
  } catch (error) {
    const message = messageOf(error);
    if (!message.includes('Available adapters:')) {
      throw new BackendUnavailableError('webgpu', `could not list the adapters: ${message}`);
    }
    return [...message.matchAll(/^ \* backend: '([^']*)', name: '(.*)'$/gm)].map((m) => ({
      backend: m[1]!,
      name: m[2]!,
    }));
  }
}

const WASM_FILES = [
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
];

/**
 * Where the backend's .wasm binaries are: PRUNEFUSE_WASM_DIR, the folder of this
 * module (a single-file bundle ships them beside itself), or the installed package.
 */
export function wasmBinaryDir(): string {
  const candidates = [process.env.PRUNEFUSE_WASM_DIR, path.dirname(fileURLToPath(import.meta.url))];
  try {
    const resolved = createRequire(import.meta.url).resolve(
      '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm',
    );
    candidates.push(path.dirname(resolved));
  } catch {
    // not resolvable, e.g. inside a bundle
  }
  for (const dir of candidates) {
    if (dir && WASM_FILES.every((file) => existsSync(path.join(dir, file)))) return dir;
  }
  throw new BackendUnavailableError(
    'wasm',
    `the tfjs wasm binaries (${WASM_FILES.join(', ')}) were not found in ${candidates
      .filter(Boolean)
      .join(', ')}; set PRUNEFUSE_WASM_DIR to the folder that holds them`,
  );
}

async function prepareWasm(): Promise<string> {
  const dir = wasmBinaryDir();
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(`${dir}${path.sep}`);
  // The build (threaded or not) is chosen before the backend first starts.
  const threads = configureWasmThreads(wasmThreadsWanted());
  registerWasmTrainingKernels();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const build = `WebAssembly${simd ? ' SIMD' : ''}, XNNPACK, ${threads} thread${threads > 1 ? 's' : ''}`;
  return `CPU (${build}, ${cpuSummary()})`;
}

function cpuSummary(): string {
  const cpus = os.cpus();
  return `${cpus.length} x ${cpus[0]?.model.trim() ?? 'unknown CPU'}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

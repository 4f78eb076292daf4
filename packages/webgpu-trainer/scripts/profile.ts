/**
 * The compiled trainer's profile of one architecture at CIFAR shape, as JSON (what
 * `prunefuse profile --backend webgpu --json` prints, without the CLI): dispatches per
 * step, host encode time, step time and GPU time per kernel where timestamps exist.
 *
 *   npx tsx --conditions=source scripts/profile.ts [arch=resnet56] [batch=128] [--steps N=5]
 */
import { useBackend } from '@prunefuse/engine';
import { architecture } from '@prunefuse/models';
import { profileCompiledStep } from '../src/index.js';

const args = process.argv.slice(2);
const stepsFlag = args.indexOf('--steps');
const steps = stepsFlag >= 0 ? Number(args.splice(stepsFlag, 2)[1]) : 5;
const [arch = 'resnet56', batchText = '128'] = args;
const batch = Number(batchText);

const device = await useBackend('webgpu');
const spec = architecture(arch, { input: { height: 32, width: 32, channels: 3 }, classes: 10 });
const profile = await profileCompiledStep({ spec, batch, steps });
console.log(JSON.stringify({ device, arch, batch, ...profile }, null, 2));

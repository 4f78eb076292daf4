export { activeLearningMethod, randomMethod, fullDataMethod } from './baselines.js';

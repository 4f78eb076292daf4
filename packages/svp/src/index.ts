export { type SvpOptions, svpMethod } from './svp-method.js';

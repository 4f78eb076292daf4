/**
 * Whether work on the webgpu backend goes through the compiled trainer (the default) or
 * through tfjs ops, which PRUNEFUSE_WEBGPU_TRAINER=tfjs asks for, for side-by-side
 * measurement and as the reference path.
 */
export function compiledTrainerChosen(env: NodeJS.ProcessEnv = process.env): boolean {
  const choice = env.PRUNEFUSE_WEBGPU_TRAINER;
  if (choice === undefined || choice === '' || choice === 'compiled') return true;
  if (choice === 'tfjs') return false;
  throw new Error(
    `PRUNEFUSE_WEBGPU_TRAINER: expected 'compiled' (the default) or 'tfjs', got '${choice}'`,
  );
}

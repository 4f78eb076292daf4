/**
 * Test-only fault injection. With PRUNEFUSE_CRASH_AT="<point>#<n>" in the environment,
 * the process kills itself with SIGKILL the n-th time it reaches `point` (counting from
 * 1), so that a test can crash a sweep at an exact moment inside a write, which a kill
 * from outside at a random time would hit only by luck. Unset, a crash point costs one
 * comparison.
 *
 * Points: 'atomic-write:partial' (half of a file's bytes in its temporary),
 * 'atomic-write:before-rename' (the temporary complete and flushed, not yet renamed),
 * 'store:record-written' (a run's record in place, the index not yet updated),
 * 'store:checkpoint-saved' (an unfinished run's checkpoint in place after a built target),
 * 'store:training-saved' (a training's state in place after one of its epochs).
 */
const requested = parseRequest(process.env.PRUNEFUSE_CRASH_AT);
let reached = 0;

/** `beforeDying` leaves the state the point stands for (e.g. half a file written). */
export function crashPoint(point: string, beforeDying?: () => void): void {
  if (requested === null || requested.point !== point) return;
  reached += 1;
  if (reached !== requested.occurrence) return;
  beforeDying?.();
  process.kill(process.pid, 'SIGKILL');
}

function parseRequest(text: string | undefined): { point: string; occurrence: number } | null {
  if (!text) return null;
  const match = /^(.+)#(\d+)$/.exec(text);
  if (!match) throw new Error(`PRUNEFUSE_CRASH_AT: expected <point>#<n>, got '${text}'`);
  return { point: match[1]!, occurrence: Number(match[2]) };
}

import os from 'node:os';

/**
 * Whether the process `pid` of host `hostname` has exited. Only a process of this host
 * can be checked; one of another host (a store on a shared file system) is assumed
 * alive. A reused pid makes a dead writer look alive, which errs on the safe side: its
 * leftovers stay until the pid is free.
 */
export function processIsGone(hostname: string, pid: number): boolean {
  if (hostname !== os.hostname()) return false;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

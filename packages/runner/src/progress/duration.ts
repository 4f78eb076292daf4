/** A duration for people: 45s, 4m05s, 2h03m. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** An ETA in seconds, or '?' while there is nothing to extrapolate from. */
export function formatEta(seconds: number | null): string {
  return seconds === null ? '?' : formatDuration(seconds);
}

import type { Status } from '../api/types.js';

/** Docker's (go-units) HumanDuration: "Less than a second", "5 seconds", "About an hour", "3 days". */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}

/** "5 seconds ago"; empty for a missing or unparsable time. */
export function timeAgo(iso: string | null | undefined, now: number = Date.now()): string {
  const t = iso ? Date.parse(iso) : NaN;
  if (Number.isNaN(t)) return '';
  return `${humanDuration(Math.max(0, now - t))} ago`;
}

/** Docker's status wording: "Up 5 seconds", "Exited (0) 3 minutes ago", "Created". */
export function describeStatus(s: { status: Status; exitCode: number | null; startedAt: string | null; finishedAt: string | null; oomKilled?: boolean; health?: { status: string } | null }, now: number = Date.now()): string {
  switch (s.status) {
    case 'created':
      return 'Created';
    case 'broken':
      return 'Broken';
    case 'running': {
      const t = s.startedAt ? Date.parse(s.startedAt) : NaN;
      const health = s.health ? (s.health.status === 'starting' ? ' (health: starting)' : ` (${s.health.status})`) : '';
      return (Number.isNaN(t) ? 'Up' : `Up ${humanDuration(Math.max(0, now - t))}`) + health;
    }
    case 'paused': {
      const t = s.startedAt ? Date.parse(s.startedAt) : NaN;
      return (Number.isNaN(t) ? 'Up' : `Up ${humanDuration(Math.max(0, now - t))}`) + ' (Paused)';
    }
    case 'restarting': {
      const ago = timeAgo(s.finishedAt, now);
      return `Restarting (${s.exitCode ?? -1})${ago ? ` ${ago}` : ''}`;
    }
    case 'exited': {
      const ago = timeAgo(s.finishedAt, now);
      return `Exited (${s.exitCode ?? -1})${ago ? ` ${ago}` : ''}${s.oomKilled ? ' (OOM killed)' : ''}`;
    }
  }
}

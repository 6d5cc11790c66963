// What both demos share: the virtual key and server to use, the fault button, and how times and states read.

/** The demo's key (?key=, else a fresh random one per page), dialect (?dialect=) and Conduit base URL. */
export function demoEnv() {
  const params = new URLSearchParams(location.search);
  const random = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, '0')).join('');
  const key = params.get('key') || `condt_demo_${random}`;
  const dialect = params.get('dialect') === 'documented' ? 'documented' : 'deployed';
  const baseUrl = params.has('dialect') ? `${location.origin}/dialect/${dialect}` : location.origin;
  return { key, dialect, baseUrl };
}

/** Asks the dev server to drop every socket of this key (fault injection); resolves with how many it dropped. */
export async function cutConnection(key) {
  const response = await fetch(`/_dev/drop?key=${encodeURIComponent(key)}`, { method: 'POST' });
  const body = await response.json();
  return body.dropped ?? 0;
}

/** "about 3 s left", or "" when unknown. */
export function etaText(seconds) {
  if (seconds === undefined || seconds === null || !Number.isFinite(seconds)) return '';
  if (seconds < 1) return 'almost done';
  if (seconds < 90) return `about ${Math.ceil(seconds)} s left`;
  return `about ${Math.round(seconds / 60)} min left`;
}

/** The badge's words for a connection state. */
export const BADGE_TEXT = {
  connected: 'Connected',
  connecting: 'Connecting…',
  reconnecting: 'Reconnecting…',
  disconnected: 'Disconnected',
};

/** A task's status line: the server's words while it runs, the outcome when it is over. */
export function statusLine(task) {
  switch (task.status) {
    case 'completed': return 'Completed';
    case 'failed': return 'Failed';
    case 'cancelled': return 'Cancelled';
    case 'pending': return task.statusText || task.message || 'Queued';
    default: return task.message || task.statusText || 'Generating';
  }
}

/** The media URLs of a finished task. */
export function mediaOf(task) {
  const r = task.result;
  if (!r) return { images: [], video: null, poster: null };
  const images = r.imageUrls && r.imageUrls.length ? r.imageUrls : r.imageUrl ? [r.imageUrl] : [];
  return { images, video: r.videoUrl ?? null, poster: r.previewUrl ?? null };
}

export const PROMPT_PLACEHOLDER = 'A lighthouse on a cliff at dusk, watercolor';

// What each mode runs: full (for BENCHMARKS.md) or --smoke (tiny counts, one round, a check for scripts/test.sh).
export function config({ smoke = false, rounds } = {}) {
  if (smoke) {
    return {
      smoke,
      rounds: rounds ?? 1,
      warmup: false,
      throughput: { count: { 1: 2_000, 50: 20_000 } },
      latency: { count: 200, warmup: 50 },
      memory: { rounds: 1, events: 20_000, tasks: 100, runs: 2 },
      scale: { sizes: [10, 100, 500], events: 20_000, snapshotEvents: 2_000 },
    };
  }
  return {
    smoke,
    rounds: rounds ?? 5,
    warmup: true,
    // ≥ 1 s per measurement for the fastest client on a 2-core box: Chromium itself delivers only ~15-20k WebSocket
    // messages/s there (one record per frame); the warm-up round uses a tenth.
    throughput: { count: { 1: 40_000, 50: 500_000 } },
    latency: { count: 2_000, warmup: 500 },
    memory: { rounds: 3, events: 1_000_000, tasks: 10_000, runs: 2 },
    // With a snapshot subscriber an event costs O(tasks): budget / tasks events per measurement.
    scale: { sizes: [10, 1_000, 10_000], events: 200_000, snapshotEvents: 40_000 },
  };
}

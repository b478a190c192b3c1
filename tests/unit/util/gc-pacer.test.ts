import { describe, expect, test } from "bun:test";
import { memoryBudget } from "../../../lib/util/gc-pacer.ts";

const MiB = 1024 * 1024;

/** A process whose RSS is `live + garbage`; a collection frees the garbage but `kept` of it (pages the allocator keeps). */
function fakeProcess(live: number, kept = 0) {
  const p = { live, garbage: 0, held: 0, gcs: 0 };
  return {
    p,
    rss: () => p.live + p.garbage + p.held,
    gc: () => {
      p.gcs++;
      p.held = Math.max(p.held, kept);
      p.garbage = 0;
    },
  };
}

describe("memoryBudget", () => {
  test("collects first, then only once RSS is past the headroom", () => {
    const f = fakeProcess(80 * MiB);
    f.p.garbage = 40 * MiB; // what a walk left
    const b = memoryBudget(32 * MiB, f.rss, f.gc);
    expect(f.p.gcs).toBe(1);
    const seen: number[] = [];
    for (let i = 0; i < 1000; i++) {
      f.p.garbage += MiB;
      seen.push(f.rss());
      b.over();
    }
    // 1000 MiB of garbage, a collection every 32 MiB of growth: ~31, never over 80 + 32 MiB
    expect(b.collections).toBeGreaterThanOrEqual(30);
    expect(b.collections).toBeLessThanOrEqual(32);
    expect(Math.max(...seen)).toBeLessThanOrEqual(112 * MiB);
  });
  test("pages the allocator keeps move the limit up by half a budget, not to a collection every MiB", () => {
    const f = fakeProcess(80 * MiB, 30 * MiB);
    const b = memoryBudget(32 * MiB, f.rss, f.gc);
    for (let i = 0; i < 1000; i++) {
      f.p.garbage += MiB;
      b.over();
    }
    expect(b.collections).toBeLessThanOrEqual(1000 / 16 + 1);
    expect(b.collections).toBeGreaterThan(10);
  });
  test("no garbage, no collection after the first", () => {
    const f = fakeProcess(100 * MiB);
    const b = memoryBudget(32 * MiB, f.rss, f.gc);
    for (let i = 0; i < 100; i++) b.over();
    expect(b.collections).toBe(0);
    expect(f.p.gcs).toBe(1);
  });
});

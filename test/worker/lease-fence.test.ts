import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fenceMarginMs, LeaseFence } from '../../src/worker/lease-fence.js';

/*
 * The worker's count of its leases (issue 12): each is counted from the sending of the
 * request that took or renewed it, and its task is stopped a margin before that count
 * ends, so before the server, which dates it later, may give the task to another node.
 * Times here are the worker's monotonic milliseconds.
 */

const ids = (lapsed: { id: number }[]) => lapsed.map((l) => l.id);

describe('LeaseFence', () => {
  it('stops a task a quarter of the lease before its end, at most 5 s before', () => {
    assert.equal(fenceMarginMs(2000), 500);
    assert.equal(fenceMarginMs(10_000), 2500);
    assert.equal(fenceMarginMs(60_000), 5000);
  });

  it("counts a claim's leases from its sending plus its wait on the server", () => {
    const fence = new LeaseFence();
    // Sent at 1000, waited 3 s on the server for work, answered at 4700.
    fence.claimed([7, 8], { sentAt: 1000, answeredAt: 4700 }, { leaseMs: 2000, waitedMs: 3000 });
    // The server's leases end at 6000 at the earliest (its clock: arrival + 3000 + 2000).
    assert.deepEqual(ids(fence.lapsed(5499)), []);
    assert.deepEqual(ids(fence.lapsed(5500)), [7, 8]);
    assert.equal(fence.lapsed(5500)[0]!.sinceMs, 1500);
  });

  it('a heartbeat renews from its sending; an older one answered later shortens nothing', () => {
    const fence = new LeaseFence();
    fence.claimed([1], { sentAt: 0, answeredAt: 10 }, { leaseMs: 2000, waitedMs: 0 });
    fence.renewed([1], 1000, 2000);
    assert.deepEqual(ids(fence.lapsed(2499)), []);
    fence.renewed([1], 600, 2000);
    assert.deepEqual(ids(fence.lapsed(2499)), []);
    assert.deepEqual(ids(fence.lapsed(2500)), [1]);
    fence.forget(1);
    assert.deepEqual(ids(fence.lapsed(10_000)), []);
  });

  it('a server that does not date its claims: counted from the answer, once a lease length is known', () => {
    const fence = new LeaseFence();
    fence.claimed([3], { sentAt: 0, answeredAt: 400 }, {});
    assert.deepEqual(ids(fence.lapsed(1_000_000)), [], 'no length known yet');
    // A heartbeat of another execution says how long leases last.
    fence.renewed([4], 500, 2000);
    assert.deepEqual(ids(fence.lapsed(1899)), []);
    assert.deepEqual(ids(fence.lapsed(1900)), [3]);
  });
});

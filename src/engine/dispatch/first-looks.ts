import type { DispatchableJob } from '../../store/claim-looks.js';
import { nodeSpecificJobsExist } from '../../store/claim-looks.js';
import type { Tx } from '../../store/database.js';
import type { NodeRow } from '../../store/schema.js';

/**
 * SQLite: the first look at the queue of each claim in one transaction, shared by the claims
 * of nodes alike in what they may run (pools, groups, resources, capabilities). In the single-task
 * protocol a transaction holds up to 32 claims, and each ran the same dispatchable-jobs
 * query (11% of the server's time in bench/peer.ts --mode single). Within the claims of a
 * transaction the queue only shrinks (the finishes and starts that could add to it ran
 * first), so a look taken earlier names the same jobs in the same order, some perhaps
 * drained; a claim that finds one drained moves on, and looks afresh past the list. While
 * any dispatchable job has a machine limit or a node list, what a node may take depends on
 * the node itself (including jobs its look left out), and nothing is shared.
 */
export class FirstLooks {
  readonly #looks = new Map<string, DispatchableJob[]>();
  /** Jobs the claims of this transaction left without queued tasks. */
  readonly #drained = new Set<number>();
  #shared: Promise<boolean> | undefined;
  /** Known once the first `get` has asked; until then, and when false, nothing is kept. */
  #sharing = false;

  constructor(private readonly tx: Tx) {}

  static profile(node: NodeRow, pools: readonly string[], groups: readonly string[]): string {
    // Nodes alike in what they reported (migration 0045) match the same host requirements.
    return JSON.stringify([
      pools,
      groups,
      node.cpus,
      node.mem,
      node.disk,
      node.gpus,
      node.host_caps ?? null,
    ]);
  }

  async get(profile: string): Promise<DispatchableJob[] | undefined> {
    this.#shared ??= nodeSpecificJobsExist(this.tx).then((exist) => (this.#sharing = !exist));
    if (!(await this.#shared)) return undefined;
    const jobs = this.#looks.get(profile)?.filter((j) => !this.#drained.has(j.id));
    return jobs?.length ? jobs : undefined;
  }

  /** A claim saw how many queued tasks a job has left (none: no later claim reads it). */
  left(jobId: number, queued: number): void {
    if (queued <= 0) this.#drained.add(jobId);
  }

  set(profile: string, jobs: DispatchableJob[]): void {
    if (this.#sharing) this.#looks.set(profile, jobs);
  }
}

import os from 'node:os';
import type { HostCapabilities } from '../domain/host-capabilities.js';
import type { NodeTelemetry } from '../domain/node-telemetry.js';
import type { PathMappingRule } from '../formats/openjd/path-mapping.js';
import type { CgroupSetting } from './cgroup.js';
import { workerBaseEnv } from './command-template.js';
import { Containment } from './containment.js';
import { LeaseFence } from './lease-fence.js';
import { appendToLog } from './log-shipper.js';
import { MachineTelemetry } from './machine-telemetry.js';
import { OpenjdSessions } from './openjd-sessions.js';
import { killOrphans } from './orphans.js';
import { CanceledError, HttpError, ServerClient, sleep } from './server-client.js';
import { SessionRecords } from './session-records.js';
import { TaskRun } from './task-run.js';
import { wholeOrders, type LaterOrderOfJob, type WorkOrder } from './work-order.js';

/*
 * The worker agent: registers this machine as a node, then claims tasks for its free slots
 * (waiting by long-poll when there are none) and runs each, while one heartbeat loop keeps
 * the leases of the running executions alive and kills the ones the server withdrew.
 *
 * It keeps no state of its own: after a restart it registers under the same name (so the
 * same node id), fails what its previous life still held, and starts over.
 */

export interface WorkerOptions {
  /** One server, or several replicas of one farm to fail over between (ServerClient). */
  servers: readonly string[];
  token?: string | undefined;
  name: string;
  pools: string[];
  groups: string[];
  cpus: number;
  /** MiB. */
  mem: number;
  gpus: number;
  /** MiB. */
  disk: number;
  slots: number;
  /** OpenJD attributes and amounts it reports (capabilities.ts). */
  capabilities?: HostCapabilities;
  workDir: string;
  /** Between SIGTERM and SIGKILL. */
  killGraceMs: number;
  /** Where task cgroups go: the worker's own cgroup (auto), none (off), or a directory. */
  cgroup: CgroupSetting;
  /** Seconds an acquire waits on the server for a task (long-poll). */
  pollSeconds: number;
  /** Heartbeat period while tasks run (kills withdrawn tasks this fast) and while idle. */
  busyHeartbeatMs: number;
  idleHeartbeatMs: number;
  /** How often the machine's telemetry goes with a heartbeat; 0: never. */
  telemetryMs: number;
  /** OpenJD path mapping rules (--path-mapping-rules), applied to PATH parameters. */
  pathMappingRules?: readonly PathMappingRule[];
  log: (message: string) => void;
}

/** How long the onExit lines of an ended session may take to reach the server. */
const SESSION_LOG_MS = 10_000;

/** The most tasks the server hands out in one claim. */
const MAX_CLAIM = 100;
/** The most jobs a claim may prefer (the server's MAX_PREFERRED_JOBS). */
const MAX_PREFERRED_JOBS = 32;

/** Heartbeats awaiting their answers at once (see heartbeatLoop). */
const HEARTBEATS_IN_FLIGHT = 2;

/**
 * How often the worker looks for tasks whose lease it could not renew in time: well inside
 * the fence's margin (a quarter of a 2 s lease at the least), so that the margin is left
 * for the event loop's delays.
 */
const FENCE_CHECK_MS = 100;

interface Registered {
  id: number;
  currentExecutions: number[];
}

export class Worker {
  private readonly client: ServerClient;
  private readonly stopping = new AbortController();
  /**
   * Ends the heartbeats and the fence, after `stopping` and once every run has ended: a
   * run that reports its command's end while the worker stops keeps its lease meanwhile.
   */
  private readonly finished = new AbortController();
  private readonly running = new Map<number, { run: TaskRun; done: Promise<void> }>();
  private nodeId: number | undefined;
  private containment: Containment | undefined;
  private loops: Promise<void>[] = [];
  private registering: Promise<number> | undefined;
  /** Runs started by the claim loop; it waits for them before it returns. */
  private readonly runs = new Set<Promise<void>>();
  private readonly fence = new LeaseFence();
  private readonly telemetry: MachineTelemetry;
  /** A reading not yet sent. */
  private telemetryDue: NodeTelemetry | undefined;
  /** OpenJD sessions of steps with environments, kept between their tasks. */
  private sessions: OpenjdSessions | undefined;
  /** The server refused `prefer` in a claim (older than session affinity). */
  private preferRefused = false;
  /** The server refused `jobsOnce` in a claim (older than it): each order carries its job. */
  private jobsOnceRefused = false;

  constructor(private readonly options: WorkerOptions) {
    this.client = new ServerClient({
      servers: options.servers,
      token: options.token,
      onRetry: (message) => options.log(message),
      onRecovered: (message) => options.log(message),
      onFailover: (message) => options.log(message),
    });
    this.telemetry = new MachineTelemetry(options.workDir);
  }

  /** Registers and starts the loops; resolves once registered. */
  async start(): Promise<void> {
    await killOrphans(this.options.workDir, this.options.name, this.options.log);
    this.containment = Containment.start({
      nodeName: this.options.name,
      cgroup: this.options.cgroup,
      log: this.options.log,
    });
    this.sessions = new OpenjdSessions({
      workDir: this.options.workDir,
      containment: this.containment,
      killGraceMs: this.options.killGraceMs,
      baseEnv: workerBaseEnv(this.options.name),
      pathMappingRules: this.options.pathMappingRules ?? [],
      log: this.options.log,
      openLog: (last) => appendToLog(this.client, this.nodeId!, last, SESSION_LOG_MS),
      records: new SessionRecords({
        client: this.client,
        nodeId: () => this.nodeId,
        log: this.options.log,
      }),
      recordGiveUpMs: SESSION_LOG_MS,
    });
    await this.register();
    this.loops = [this.heartbeatLoop(), this.claimLoop(), this.fenceLoop(), this.telemetryLoop()];
  }

  /** Stop taking work, kill running commands and give their tasks back, then return. */
  async stop(): Promise<void> {
    if (this.stopping.signal.aborted) return;
    this.stopping.abort();
    await Promise.all([...this.running.values()].map(({ run, done }) => run.shutdown(done)));
    // The claim loop takes no more tasks: the sessions have none left, and exit.
    await Promise.all(this.runs);
    await this.sessions?.endAll();
    this.finished.abort();
    await Promise.all(this.loops);
    this.containment?.close();
  }

  /** Registers (again): same name, same node id. Retries until the server answers. */
  private register(): Promise<number> {
    this.registering ??= this.registerOnce().finally(() => (this.registering = undefined));
    return this.registering;
  }

  private async registerOnce(): Promise<number> {
    const o = this.options;
    const { name, pools, groups, cpus, mem, disk, gpus, slots, capabilities } = o;
    const body = { name, hostname: os.hostname(), pools, groups, cpus, mem, disk, gpus, slots };
    const send = (extra: object) =>
      this.client.request<Registered>('POST', '/nodes', {
        body: { ...body, ...extra },
        signal: this.stopping.signal,
        timeoutMs: 30_000,
      });
    const node = await send(capabilities ? { capabilities } : {}).catch((error: unknown) => {
      // A server older than host requirements refuses the field: no job there needs them.
      if (!(error instanceof HttpError && error.status === 400 && capabilities)) throw error;
      o.log('the server refused capabilities (it predates host requirements); registering without');
      return send({});
    });
    this.nodeId = node.id;
    o.log(
      `registered with ${this.client.server} as node ${node.id} (${o.name}, ${o.slots} slot(s))`,
    );
    // Executions the server thinks we hold but we do not run: a previous life of this
    // worker held them. Fail them now (as the lease would later) so the slots free at once.
    for (const id of node.currentExecutions) {
      if (this.running.has(id)) continue;
      o.log(`execution ${id} was held by this node before it restarted; reporting it lost`);
      await this.client
        .request('POST', `/executions/${id}/finish`, {
          body: {
            nodeId: node.id,
            success: false,
            error: {
              name: 'node-lost',
              message: 'the worker restarted while the task was running',
            },
          },
          retryForMs: 5000,
          timeoutMs: 10_000,
        })
        .catch(() => undefined);
    }
    return node.id;
  }

  /**
   * A heartbeat goes out every period even while the one before still waits for its answer
   * (two at most): the leases are renewed as often as the server expects, and the lease
   * fence, which counts from each heartbeat's sending, tolerates answers as slow as the
   * lease less one period and its margin (a 60 s lease, 54 s). Waiting for each answer
   * before the next period, a 2 s lease with 1 s heartbeats was fenced at answers slower
   * than 0.5 s.
   */
  private async heartbeatLoop(): Promise<void> {
    const signal = this.finished.signal;
    let last = 0;
    const inFlight = new Set<Promise<void>>();
    while (!signal.aborted) {
      await sleep(Math.min(this.options.busyHeartbeatMs, this.options.idleHeartbeatMs), signal);
      if (signal.aborted) break;
      const period =
        this.running.size > 0 ? this.options.busyHeartbeatMs : this.options.idleHeartbeatMs;
      if (Date.now() - last < period || inFlight.size >= HEARTBEATS_IN_FLIGHT) continue;
      last = Date.now();
      const beat: Promise<void> = this.heartbeat(signal).finally(() => inFlight.delete(beat));
      inFlight.add(beat);
    }
    await Promise.all(inFlight);
  }

  /**
   * Reads the machine every telemetryMs, apart from the heartbeats (nvidia-smi may take a
   * while), for the next heartbeat to carry.
   */
  private async telemetryLoop(): Promise<void> {
    const signal = this.finished.signal;
    const period = this.options.telemetryMs;
    if (period <= 0) return;
    while (!signal.aborted) {
      this.telemetryDue = await this.telemetry.read().catch(() => undefined);
      await sleep(period, signal);
    }
  }

  private async heartbeat(signal: AbortSignal): Promise<void> {
    const ids = [...this.running.keys()];
    // As a claim's: from the attempt that got through.
    let sentAt = performance.now();
    const telemetry = this.telemetryDue;
    this.telemetryDue = undefined;
    try {
      const { stop, leaseMs } = await this.client.request<{ stop: number[]; leaseMs?: number }>(
        'POST',
        `/nodes/${this.nodeId}/heartbeat`,
        {
          body: { executions: ids, ...(telemetry ? { telemetry } : {}) },
          signal,
          retryForMs: 10_000,
          timeoutMs: 10_000,
          onAttempt: () => (sentAt = performance.now()),
        },
      );
      const stopped = new Set(stop);
      this.fence.renewed(
        ids.filter((id) => !stopped.has(id)),
        sentAt,
        leaseMs,
      );
      for (const id of stop) {
        void this.running.get(id)?.run.withdraw('the server withdrew it');
      }
    } catch (error) {
      if (error instanceof CanceledError) return;
      if (error instanceof HttpError && error.status === 404) {
        await this.register().catch(() => undefined);
      } else {
        this.options.log(`heartbeat failed: ${(error as Error).message}`);
      }
    }
  }

  /**
   * Stops each task whose lease the worker could not renew in time (LeaseFence): the
   * heartbeat loop may itself be stuck in a request that the server does not answer.
   */
  private async fenceLoop(): Promise<void> {
    const signal = this.finished.signal;
    while (!signal.aborted) {
      await sleep(FENCE_CHECK_MS, signal);
      for (const { id, sinceMs } of this.fence.lapsed(performance.now())) {
        this.fence.forget(id);
        this.running
          .get(id)
          ?.run.leaseLapsed(
            `its lease ran out: not renewed for ${(sinceMs / 1000).toFixed(1)} s, so the ` +
              'server may soon run it elsewhere',
          );
      }
    }
  }

  /**
   * Takes as many tasks as there are free slots in one claim, and runs each in its own
   * process; with every slot busy it waits for a run to end. One call fills eight slots
   * where eight loops of single acquires made eight.
   */
  private async claimLoop(): Promise<void> {
    const signal = this.stopping.signal;
    const wait = this.options.pollSeconds;
    while (!signal.aborted) {
      const free = this.options.slots - this.running.size;
      if (free <= 0) {
        const ends = [...this.running.values()].map((r) => r.done.catch(() => undefined));
        await Promise.race([...ends, aborted(signal)]);
        continue;
      }
      let answer: { orders: (WorkOrder | LaterOrderOfJob)[]; leaseMs?: number; waitedMs?: number };
      let orders: WorkOrder[];
      let prefer: number[] = [];
      // The leases count from the sending of the attempt that got through: a claim that
      // hung on a dead connection and went out again 35 s later, counted from its first
      // sending, was fenced the moment it answered, and its task ran on elsewhere too.
      let sentAt = performance.now();
      try {
        // The jobs of the idle OpenJD sessions: their tasks first, within the top priority.
        prefer = this.preferRefused ? [] : (this.sessions?.preferred(MAX_PREFERRED_JOBS) ?? []);
        answer = await this.client.request<typeof answer>('POST', `/nodes/${this.nodeId}/claims`, {
          body: {
            max: Math.min(free, MAX_CLAIM),
            wait,
            ...(prefer.length > 0 ? { prefer } : {}),
            // Each job once per answer: the orders of one job no longer repeat it.
            ...(this.jobsOnceRefused ? {} : { jobsOnce: true }),
          },
          signal,
          timeoutMs: (wait + 30) * 1000,
          onAttempt: () => (sentAt = performance.now()),
        });
        orders = wholeOrders(answer.orders);
      } catch (error) {
        if (error instanceof CanceledError) break;
        if (error instanceof HttpError && error.status === 404) {
          await this.register().catch(() => undefined);
        } else if (
          error instanceof HttpError &&
          error.status === 400 &&
          error.message.includes('"jobsOnce"')
        ) {
          // A server older than jobsOnce refuses the field: claim without it.
          this.jobsOnceRefused = true;
          this.options.log(`the server refused a claim's jobsOnce; claiming without it`);
        } else if (error instanceof HttpError && error.status === 400 && prefer.length > 0) {
          // A server older than session affinity refuses the field: claim without it.
          this.preferRefused = true;
          this.options.log(`the server refused a claim's preferred jobs; claiming without them`);
        } else {
          this.options.log(`claim failed: ${(error as Error).message}`);
          await sleep(5000, signal);
        }
        continue;
      }
      // A long-poll wait with nothing for this worker: its steps have no more tasks here.
      if (orders.length === 0) void this.sessions?.endIdle();
      // The leases began when the claim took its tasks, after its long-poll wait.
      this.fence.claimed(
        orders.map((o) => o.execution.id),
        { sentAt, answeredAt: performance.now() },
        answer,
      );
      for (const order of orders) {
        const run = this.runTask(order).finally(() => this.runs.delete(run));
        this.runs.add(run);
      }
    }
    await Promise.all(this.runs);
  }

  private async runTask(order: WorkOrder): Promise<void> {
    const o = this.options;
    const id = order.execution.id;
    if (this.stopping.signal.aborted) {
      await this.client
        .request('POST', `/executions/${id}/release`, {
          body: { nodeId: this.nodeId },
          retryForMs: 3000,
          timeoutMs: 3000,
        })
        .catch(() => undefined);
      return;
    }
    o.log(
      `execution ${id}: job ${order.job.id} "${order.job.name}" (${order.jobType.name}), frames ${order.task.frames || '-'}`,
    );
    // Before it counts among the running: the slots left beside it decide which idle
    // sessions stay.
    const session = this.sessions?.reserve(order, o.slots - this.running.size - 1);
    const run = new TaskRun(
      order,
      {
        client: this.client,
        nodeId: this.nodeId!,
        nodeName: o.name,
        workDir: o.workDir,
        killGraceMs: o.killGraceMs,
        containment: this.containment!,
        pathMappingRules: o.pathMappingRules ?? [],
        log: o.log,
      },
      session,
    );
    const done = run.run();
    this.running.set(id, { run, done });
    try {
      await done;
    } finally {
      this.running.delete(id);
      this.fence.forget(id);
    }
  }
}

/** Resolves when the signal fires. */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

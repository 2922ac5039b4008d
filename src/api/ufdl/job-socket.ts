import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { MAX_CHILD_JOBS } from '../../domain/child-jobs.js';
import type { DroverEvent } from '../../engine/events/events.js';
import { isParentJob } from '../../engine/jobs/job-families.js';
import { childrenOf } from '../../store/jobs.js';
import { stillSignedIn } from './auth.js';
import type { UfdlFace } from './context.js';
import type { Phase } from './errors.js';
import { ufdlDialectOf } from './job-json.js';
import { findUfdlJob, listUfdlJobs, type UfdlJobViewRow } from './job-view.js';
import { LAST_TRANSITION_OF_PHASE, phaseOf } from './phase-mapping.js';

/*
 * The per-job WebSocket at /v1/jobs/{pk}: one JSON text frame per transition, UFDL's
 * notification data (reference §7), computed after the change. Engine events become UFDL
 * transitions here; they cross replicas on the bus, so a watcher may connect to any one.
 * On connect the watcher gets the message of the job's current phase (none while CREATED).
 */

export type Transition =
  'acquire' | 'release' | 'start' | 'progress' | 'finish' | 'error' | 'reset' | 'abort' | 'cancel';

/**
 * The UFDL transition an engine event is, given the job as it is after the event's
 * transaction (events arrive after commit). Events that are part of another transition's
 * move (the job becoming RUNNING on acquire, the execution completing on finish) are none.
 */
export function transitionOf(event: DroverEvent, job: UfdlJobViewRow): Transition | undefined {
  switch (event.type) {
    case 'execution.state':
      if (event.from === null && event.to === 'ACQUIRED') return 'acquire';
      if (event.to === 'RELEASED') return 'release';
      if (event.to === 'RUNNING') return 'start';
      if (event.to === 'CANCELED') return job.state === 'CANCELED' ? undefined : 'abort';
      // A failure with tries left puts the job back to CREATED: UFDL calls that a reset.
      if (event.to === 'FAILED') return job.state === 'FAILED' ? undefined : 'reset';
      return undefined;
    case 'task.progress':
      return 'progress';
    case 'job.state':
      if (event.to === 'COMPLETED') return 'finish';
      if (event.to === 'FAILED') return 'error';
      if (event.to === 'CANCELED') return 'cancel';
      if (event.from === 'FAILED' && (event.to === 'QUEUED' || event.to === 'PENDING')) {
        return 'reset';
      }
      return undefined;
    default:
      return undefined;
  }
}

/** A job's progress as UFDL keeps it: 0 to 1, 1 once finished. */
const progressOf = (job: UfdlJobViewRow): number =>
  job.state === 'COMPLETED'
    ? 1
    : job.execution_progress === null
      ? 0
      : job.execution_progress / 100;

export function notificationData(
  job: UfdlJobViewRow,
  transition: Transition,
  transitionData: Record<string, unknown> = {},
  progress: number = progressOf(job),
) {
  const phase = phaseOf(job);
  return {
    transition,
    description: job.description,
    pk: job.pk,
    progress,
    cancelled: phase === 'CANCELLED',
    ...(job.node !== null ? { node: job.node } : {}),
    ...(phase === 'ERRORED' ? { error: job.error_reason ?? '' } : {}),
    transition_data: transitionData,
  };
}

/**
 * A meta-job's transitions follow its phase, which its children move (UFDL's _start_meta,
 * _finish_meta, _finish_with_error_meta, _reset_meta and cancel): the transition from the
 * phase its watcher last saw to the phase it is in, if UFDL has one.
 */
export function parentTransition(from: Phase, to: Phase): Transition | undefined {
  if (from === to) return undefined;
  if (to === 'FINISHED') return 'finish';
  if (to === 'ERRORED') return 'error';
  if (to === 'CANCELLED') return 'cancel';
  if (from === 'ERRORED') return 'reset';
  if (from === 'CREATED' && to === 'STARTED') return 'start';
  return undefined;
}

/** Transitions the job's creator asked to hear over the socket; undefined: all of them. */
function socketTransitions(job: UfdlJobViewRow): Set<string> | undefined {
  const actions = ufdlDialectOf(job).notificationOverride?.actions;
  if (!actions) return undefined;
  const websocket = (n: Record<string, unknown>) =>
    Object.keys(n).every((k) => k === 'suppress_for_parent');
  const named = Object.entries(actions).filter(([, list]) => list.some(websocket));
  if (named.length === 0) return undefined;
  // UFDL skips a child's notifications marked suppress_for_parent, which is the default.
  const heard = named.filter(([, list]) =>
    list.some((n) => websocket(n) && (job.parent === null || n.suppress_for_parent === false)),
  );
  return new Set(heard.map(([key]) => key.replace(/^on_/, '')));
}

/** Refuses the handshake for a job that does not exist (UFDL closes before accepting). */
export function socketGate(face: UfdlFace) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!request.ws) return;
    const pk = Number((request.params as { pk?: string }).pk);
    if (!(pk >= 1) || !(await findUfdlJob(face.engine.ctx.db, pk))) {
      await reply.status(404).send({ detail: 'Not found.' });
    }
  };
}

/** How often an open socket's credentials are read again (as the native event stream's). */
const RECHECK_MS = 5_000;

export function jobSocket(face: UfdlFace) {
  const { ctx } = face.engine;
  return (socket: WebSocket, request: FastifyRequest): void => {
    const pk = Number((request.params as { pk: string }).pk);
    let chain = Promise.resolve();
    // A meta-job's watcher hears of its children too: their ids (all made with the parent),
    // and the phase of the parent it was last told of.
    let family: { children: Set<number>; phase: Phase } | undefined;
    const send = (
      job: UfdlJobViewRow,
      transition: Transition,
      data?: Record<string, unknown>,
      progress?: number,
    ) => {
      const wanted = socketTransitions(job);
      if (wanted && !wanted.has(transition)) return;
      if (socket.readyState === socket.OPEN) {
        socket.send(JSON.stringify(notificationData(job, transition, data, progress)));
      }
    };
    /** UFDL's meta-job progress: the mean of its children's. */
    const familyProgress = async (): Promise<number> => {
      const children = await listUfdlJobs(ctx.db, ctx.dialect, {
        conditions: [{ type: 'exact', column: 'parent', value: pk }],
        order: [],
        includeInactive: true,
        limit: MAX_CHILD_JOBS,
      });
      const sum = children.reduce((total, child) => total + progressOf(child), 0);
      return children.length === 0 ? 0 : sum / children.length;
    };
    const onParentEvent = async (job: UfdlJobViewRow, event: DroverEvent, known: Phase) => {
      const phase = phaseOf(job);
      const transition = parentTransition(known, phase);
      if (family) family.phase = phase;
      if (transition) send(job, transition, {}, await familyProgress());
      if (event.type === 'task.progress' && event.jobId !== pk && phase === 'STARTED') {
        const data = { triggered_by: event.jobId, progress: event.progress / 100 };
        send(job, 'progress', data, await familyProgress());
      }
    };
    const unsubscribe = ctx.bus.subscribe((event) => {
      if (!('jobId' in event) || event.jobId === null) return;
      // Of a child, only its progress concerns the parent: its phase moves come as the parent's.
      const own = event.jobId === pk;
      if (!own && !(family?.children.has(event.jobId) && event.type === 'task.progress')) return;
      // One at a time, so messages leave in the order the events came.
      chain = chain
        .then(async () => {
          const job = await findUfdlJob(ctx.db, pk);
          if (!job) return;
          if (family) return onParentEvent(job, event, family.phase);
          const transition = transitionOf(event, job);
          if (!transition) return;
          send(job, transition, event.type === 'task.progress' ? (event.details ?? {}) : {});
        })
        .catch((error: unknown) => request.log.error({ err: error }, 'UFDL socket message failed'));
    });
    // A token revoked (or its user removed) while the socket is open closes it.
    const recheck = setInterval(() => {
      stillSignedIn(face.engine, request).then(
        (yes) => yes || socket.close(1008, 'credentials revoked'),
        (error: unknown) => request.log.warn({ err: error }, 'UFDL socket recheck failed'),
      );
    }, RECHECK_MS);
    recheck.unref();
    const stop = (): void => {
      clearInterval(recheck);
      unsubscribe();
    };
    socket.on('close', stop);
    socket.on('error', stop);
    chain = chain.then(async () => {
      const job = await findUfdlJob(ctx.db, pk);
      if (!job) return;
      const phase = phaseOf(job);
      if (isParentJob(job)) {
        const children = await childrenOf(ctx.db, pk);
        family = { children: new Set(children.map((c) => c.id)), phase };
      }
      const last = LAST_TRANSITION_OF_PHASE[phase];
      if (last) send(job, last as Transition, {}, family ? await familyProgress() : undefined);
    });
  };
}

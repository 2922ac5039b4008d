import type { JobTypeDefinition } from '../../domain/job-type-definition.js';
import { priorityToScale } from '../../domain/priority.js';
import { DEFAULT_CONFIGURATION, type DataV6 } from '../../formats/seed/seed-data.js';
import type { BatchRow, TriggerEventRow } from '../../store/events-and-batches.js';
import type { FileRow } from '../../store/files.js';
import type {
  ErrorRow,
  ExecutionRow,
  JobRow,
  JobTypeRevisionRow,
  JobTypeRow,
  NodeRow,
} from '../../store/schema.js';
import {
  errorFor,
  scaleDocumentOf,
  scaleTriesBefore,
  seedDocumentOf,
  type JobContext,
} from './job-context.js';
import { scaleTime as time } from './params.js';
import { EXECUTION_STATUS_TABLE, scaleNumExes, scaleStatusOf } from './status-mapping.js';

/* Scale v6 serializers (job/serializers.py); field sets as reference §6 lists them. */

export function jobTypeBase(type: JobTypeRow, unmet: string | null, revision?: JobTypeRevisionRow) {
  const document = seedDocumentOf(revision);
  return {
    id: type.id,
    name: type.name,
    version: type.version,
    title: type.title || null,
    description: type.description || null,
    is_active: type.is_active === 1,
    is_system: type.is_system === 1,
    is_paused: type.is_paused === 1,
    is_published: document?.is_published ?? false,
    icon_code: document?.icon_code ?? null,
    unmet_resources: unmet,
  };
}

export function revisionBase(revision: JobTypeRevisionRow | undefined, jobTypeId: number) {
  return revision
    ? { id: revision.id, job_type: { id: jobTypeId }, revision_num: revision.revision_num }
    : null;
}

export function revisionDetails(
  revision: JobTypeRevisionRow,
  type: JobTypeRow,
  unmet: string | null,
) {
  const document = seedDocumentOf(revision);
  return {
    id: revision.id,
    job_type: jobTypeBase(type, unmet, revision),
    revision_num: revision.revision_num,
    docker_image: document?.docker_image ?? null,
    created: time(revision.created_at),
    manifest: document?.manifest ?? manifestOfDefinition(type, revision),
  };
}

/** A job type without a manifest (registered natively) described as one, for display. */
function manifestOfDefinition(type: JobTypeRow, revision: JobTypeRevisionRow) {
  const d = JSON.parse(revision.definition_json) as JobTypeDefinition;
  return {
    seedVersion: '1.0.0',
    job: {
      name: type.name,
      jobVersion: type.version,
      packageVersion: type.version,
      title: type.title,
      description: type.description,
      timeout: d.taskTimeout,
      interface: {
        command: d.command.join(' '),
        inputs: {
          files: d.inputs
            .filter((f) => f.type === 'file')
            .map((f) => ({ name: f.name, required: f.required })),
          json: [...d.inputs.filter((f) => f.type !== 'file'), ...d.parameters].map((f) => ({
            name: f.name,
            type: f.type === 'file' ? 'string' : f.type,
            required: f.required,
          })),
        },
      },
    },
  };
}

export const eventJson = (e: TriggerEventRow | undefined) =>
  e ? { id: e.id, type: e.type, occurred: time(e.occurred) } : null;

export const batchJson = (b: BatchRow | undefined) =>
  b ? { id: b.id, title: b.title, description: b.description, created: time(b.created_at) } : null;

export const nodeBase = (n: NodeRow | undefined) => (n ? { id: n.id, hostname: n.hostname } : null);

export function errorJson(e: ErrorRow | undefined) {
  return e
    ? {
        id: e.id,
        name: e.name,
        title: e.title,
        description: e.description,
        job_type_name: e.job_type_name,
        category: e.category,
        is_builtin: e.is_builtin === 1,
        should_be_retried: e.should_be_retried === 1,
      }
    : null;
}

export function errorDetails(e: ErrorRow) {
  return { ...errorJson(e)!, created: time(e.created_at), last_modified: time(e.last_modified) };
}

function resourcesJson(cpus: number, mem: number, disk: number, gpus: number) {
  return { resources: { cpus, mem, disk, ...(gpus > 0 ? { gpus } : {}) } };
}

/** The Data JSON of a job: as queued through Scale, or its Drover values as json. */
function inputOf(job: JobRow): DataV6 {
  const scale = scaleDocumentOf(job);
  if (scale) return scale.input;
  return {
    files: {},
    json: {
      ...(JSON.parse(job.input_json) as Record<string, unknown>),
      ...(JSON.parse(job.parameters_json) as Record<string, unknown>),
    },
  };
}

function configurationOf(job: JobRow, revision: JobTypeRevisionRow | undefined) {
  const scale = scaleDocumentOf(job);
  const base =
    scale?.configuration ?? seedDocumentOf(revision)?.configuration ?? DEFAULT_CONFIGURATION;
  const secret = new Set(
    (seedDocumentOf(revision)?.manifest.job.interface?.settings ?? [])
      .filter((s) => s.secret)
      .map((s) => s.name),
  );
  return {
    mounts: base.mounts,
    output_workspaces: base.output_workspaces,
    priority: priorityToScale(job.priority),
    settings: Object.fromEntries(
      Object.entries(base.settings).filter(([name]) => !secret.has(name)),
    ),
  };
}

export function scaleMaxTries(job: JobRow): number {
  return scaleTriesBefore(job) + job.max_tries;
}

export function clusterId(execution: ExecutionRow): string {
  return `scale_job_drover_${execution.job_id}x${execution.exe_num}`;
}

/**
 * A step of a multi-step job is a job of a recipe, the multi-step job (README, "Multi-step
 * jobs"): the recipe's id is that job's, its recipe type that job's type.
 */
function recipeJson(job: JobRow, c: JobContext) {
  const parent = job.parent_id === null ? undefined : c.recipes.get(job.parent_id);
  if (!parent) return null;
  const type = c.types.get(parent.job_type_id);
  return {
    id: parent.id,
    recipe_type: {
      id: parent.job_type_id,
      name: type?.name ?? '',
      title: type?.title ?? '',
      description: type?.description ?? '',
      revision_num: c.revisions.get(parent.job_type_rev_id)?.revision_num ?? 1,
    },
    recipe_type_rev: { id: parent.job_type_rev_id },
    event: parent.event_id === null ? null : { id: parent.event_id },
  };
}

export function jobListItem(job: JobRow, c: JobContext) {
  const type = c.types.get(job.job_type_id)!;
  const status = scaleStatusOf(job, c.blocked.has(job.id));
  const latest = c.latest.get(job.id);
  const showsNode = status === 'RUNNING' || status === 'COMPLETED' || status === 'FAILED';
  const sources = c.sources.get(job.id);
  return {
    id: job.id,
    job_type: jobTypeBase(type, c.unmet.get(type.id) ?? null, c.revisions.get(job.job_type_rev_id)),
    status,
    job_type_rev: revisionBase(c.revisions.get(job.job_type_rev_id), type.id),
    event: eventJson(job.event_id === null ? undefined : c.events.get(job.event_id)),
    ingest_event: null,
    recipe: recipeJson(job, c),
    batch: batchJson(job.batch_id === null ? undefined : c.batches.get(job.batch_id)),
    is_superseded: false,
    superseded_job: null,
    node: showsNode && latest ? nodeBase(c.nodes.get(latest.node_id)) : null,
    error: status === 'FAILED' ? errorJson(errorFor(c.errors, job.error_name, type.name)) : null,
    max_tries: scaleMaxTries(job),
    num_exes: scaleNumExes(job),
    input_file_size: sources?.input_file_size ?? null,
    input_files: c.inputFiles.get(job.id) ?? {},
    source_started: time(sources?.source_started),
    source_ended: time(sources?.source_ended),
    source_sensor_class: sources?.source_sensor_class ?? null,
    source_sensor: sources?.source_sensor ?? null,
    source_collection: sources?.source_collection ?? null,
    source_task: sources?.source_task ?? null,
    created: time(job.created_at),
    queued: time(job.queued_at),
    started: time(job.started_at),
    ended: time(job.ended_at),
    last_status_change: time(job.last_status_change),
    superseded: null,
    last_modified: time(job.last_modified),
  };
}

export function jobDetails(
  job: JobRow,
  c: JobContext,
  output: { files: Record<string, number[]>; json: Record<string, unknown> } = {
    files: {},
    json: {},
  },
) {
  const item = jobListItem(job, c);
  const type = c.types.get(job.job_type_id)!;
  const revision = c.revisions.get(job.job_type_rev_id);
  const latest = c.latest.get(job.id);
  const shows = ['RUNNING', 'COMPLETED', 'FAILED', 'QUEUED'].includes(item.status);
  const execution =
    shows && latest && latest.exe_num === item.num_exes ? executionDetails(latest, job, c) : null;
  return {
    ...item,
    job_type_rev: revision ? revisionDetails(revision, type, c.unmet.get(type.id) ?? null) : null,
    superseded_by_job: null,
    resources: resourcesJson(job.req_cpus, job.req_mem, job.req_disk, job.req_gpus),
    execution,
    input: inputOf(job),
    output,
    configuration: configurationOf(job, revision),
  };
}

export function executionItem(e: ExecutionRow, job: JobRow, c: JobContext) {
  const type = c.types.get(job.job_type_id)!;
  return {
    id: e.id,
    status: EXECUTION_STATUS_TABLE[e.state] ?? 'RUNNING',
    exe_num: e.exe_num,
    cluster_id: clusterId(e),
    created: time(e.created_at),
    queued: time(e.created_at),
    started: time(e.started_at),
    ended: time(e.ended_at),
    job: { id: job.id },
    node: nodeBase(c.nodes.get(e.node_id)),
    error: errorJson(errorFor(c.errors, e.error_name, type.name)),
    job_type: jobTypeBase(type, c.unmet.get(type.id) ?? null, c.revisions.get(job.job_type_rev_id)),
    timeout: job.task_timeout_s,
    input_file_size: c.sources.get(job.id)?.input_file_size ?? null,
  };
}

export function executionDetails(e: ExecutionRow, job: JobRow, c: JobContext) {
  const item = executionItem(e, job, c);
  const started = e.started_at !== null;
  return {
    ...item,
    task_results: {
      version: '1.0',
      tasks: [
        {
          task_id: `${item.cluster_id}_main`,
          type: 'main',
          was_launched: true,
          launched: time(e.created_at),
          was_started: started,
          started: time(e.started_at),
          was_timed_out: e.timed_out === 1,
          ended: time(e.ended_at),
          status: item.status,
          exit_code: e.exit_code,
        },
      ],
    },
    resources: resourcesJson(job.req_cpus, job.req_mem, job.req_disk, job.req_gpus),
    configuration: {
      tasks: [
        {
          type: 'main',
          args:
            (
              JSON.parse(c.revisions.get(job.job_type_rev_id)?.definition_json ?? '{}') as {
                command?: string[];
              }
            ).command ?? [],
          env_vars: {},
        },
      ],
    },
    output: null,
  };
}

/** ScaleFileSerializerV6. */
export function fileJson(f: FileRow, extra: { jobId?: number } = {}) {
  const props = JSON.parse(f.props_json) as Record<string, unknown>;
  const str = (k: string) => (typeof props[k] === 'string' ? (props[k] as string) : null);
  return {
    id: f.id,
    file_name: f.file_name,
    workspace: { id: 1, name: f.workspace },
    data_type_tags: Array.isArray(props.data_type_tags) ? props.data_type_tags : [],
    media_type: f.media_type,
    file_type: f.file_type,
    file_size: f.size,
    file_path: f.path,
    is_deleted: f.deleted_at !== null,
    url: null,
    created: time(f.created_at),
    deleted: time(f.deleted_at),
    data_started: time(f.data_started),
    data_ended: time(f.data_ended),
    source_started: time(f.source_started),
    source_ended: time(f.source_ended),
    source_sensor_class: str('source_sensor_class'),
    source_sensor: str('source_sensor'),
    source_collection: str('source_collection'),
    source_task: str('source_task'),
    last_modified: time(f.last_modified),
    geometry: null,
    center_point: null,
    countries: [],
    job_type: null,
    // A product file (registered from a job's output) names its job.
    job:
      extra.jobId !== undefined
        ? { id: extra.jobId }
        : typeof props.job_id === 'number'
          ? { id: props.job_id }
          : null,
    job_exe: null,
    job_output: null,
    recipe_type: null,
    recipe: null,
    recipe_node: null,
    batch: null,
    is_superseded: false,
    superseded: null,
  };
}

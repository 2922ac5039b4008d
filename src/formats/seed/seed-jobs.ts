import { invalid, notFound } from '../../domain/errors.js';
import { priorityFromScale } from '../../domain/priority.js';
import { inTransaction, type EngineContext } from '../../engine/context.js';
import { submitJob } from '../../engine/jobs/job-submission.js';
import { insertTriggerEvent } from '../../store/events-and-batches.js';
import { findFiles, insertJobInputFiles, type FileRow } from '../../store/files.js';
import { insertJobSources } from '../../store/job-sources.js';
import { findJobType, findRevision } from '../../store/job-types.js';
import {
  mergeConfiguration,
  parseData,
  validateAgainstInterface,
  type DataV6,
  type JobConfiguration,
} from './seed-data.js';
import { RESOURCE_MINIMUMS, seedDocument } from './seed-manifests.js';

/** What a job queued through Scale keeps in its dialect document. */
export interface ScaleJobDocument {
  input: DataV6;
  configuration: JobConfiguration;
  /** Executions before the last user requeue: Scale's max_tries counts across requeues. */
  triesBefore: number;
}

export interface QueueSeedJobSpec {
  jobTypeId: number;
  input: unknown;
  configuration?: unknown;
  user: string;
  batchId?: number;
}

const MIB = 1024 * 1024;

interface FileProps {
  source_sensor_class?: string;
  source_sensor?: string;
  source_collection?: string;
  source_task?: string;
}

/**
 * Queues a job of a Seed job type from Data JSON, checking in Scale's order: the data's
 * own shape, the job type, the configuration, then the data against the interface.
 */
export async function queueSeedJob(ctx: EngineContext, spec: QueueSeedJobSpec): Promise<number> {
  const data = parseData(spec.input);
  const type = await findJobType(ctx.db, spec.jobTypeId);
  if (!type) throw notFound('job type', spec.jobTypeId);
  const revision = await findRevision(ctx.db, type.id, type.latest_revision);
  const document = seedDocument(revision?.manifest_json ?? null);
  if (!document) {
    throw invalid(
      `job type ${type.name} ${type.version} has no Seed manifest; queue it through /api/v1/jobs`,
    );
  }
  if (type.is_active !== 1) throw invalid(`Job type ${type.name} ${type.version} is not active`);
  const configuration = mergeConfiguration(document.configuration, spec.configuration);
  const checked = validateAgainstInterface(data, document.manifest.job.interface?.inputs ?? {});

  const ids = [...new Set(Object.values(checked.files).flat())];
  const files = await findFiles(ctx.db, ids);
  const byId = new Map(files.map((f) => [Number(f.id), f]));
  const missing = ids.filter((id) => !byId.has(id));
  if (missing.length > 0) {
    throw invalid(`Invalid data: file ids that do not exist: ${missing.join(', ')}`, {
      field: 'input',
    });
  }
  const inputs: Record<string, string> = {};
  for (const f of document.manifest.job.interface?.inputs?.files ?? []) {
    inputs[f.name] = (checked.files[f.name] ?? []).map((id) => byId.get(id)!.path).join(' ');
  }
  const parameters: Record<string, string> = {};
  for (const j of document.manifest.job.interface?.inputs?.json ?? []) {
    const value = checked.json[j.name];
    parameters[j.name] =
      value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  }
  const sizeMiB = files.reduce((sum, f) => sum + f.size, 0) / MIB;
  const resources = jobResources(document.manifest.job.resources?.scalar ?? [], sizeMiB);

  const eventId = await inTransaction(ctx, (tx) =>
    insertTriggerEvent(tx, 'USER', { user: spec.user }, ctx.clock()),
  );
  const dialect: ScaleJobDocument = { input: checked, configuration, triesBefore: 0 };
  const jobId = await submitJob(ctx, {
    type: type.name,
    typeVersion: type.version,
    user: spec.user,
    priority: priorityFromScale(configuration.priority),
    inputs,
    parameters,
    resources,
    maxTries: document.max_tries,
    retryAnyError: false,
    eventId,
    ...(spec.batchId !== undefined ? { batchId: spec.batchId } : {}),
    dialect: { scale: dialect },
  });
  await inTransaction(ctx, async (tx) => {
    await insertJobInputFiles(
      tx,
      Object.entries(checked.files).flatMap(([name, fileIds]) =>
        [...new Set(fileIds)].map((fileId) => ({
          job_id: jobId,
          file_id: fileId,
          input_name: name,
        })),
      ),
    );
    await insertJobSources(tx, { job_id: jobId, input_file_size: sizeMiB, ...sourcesOf(files) });
  });
  return jobId;
}

/** Scale's resources of a job: floors, input multipliers, and at least the input on disk. */
export function jobResources(
  scalars: { name: string; value: number; inputMultiplier?: number }[],
  inputMiB: number,
): { cpus: number; mem: number; disk: number; gpus: number } {
  const out: Record<string, number> = { cpus: 0, mem: 0, disk: 0, gpus: 0, ...RESOURCE_MINIMUMS };
  for (const r of scalars) {
    if (!(r.name in out)) continue;
    let value = Math.max(r.value, RESOURCE_MINIMUMS[r.name] ?? 0);
    if (r.inputMultiplier !== undefined) value = Math.ceil(r.inputMultiplier * inputMiB + r.value);
    out[r.name] = value;
  }
  out.disk = Math.max(out.disk ?? 0, inputMiB);
  return { cpus: out.cpus!, mem: out.mem!, disk: out.disk, gpus: out.gpus! };
}

function sourcesOf(files: FileRow[]) {
  const props = files.map((f) => JSON.parse(f.props_json) as FileProps);
  const times = (key: 'source_started' | 'source_ended') =>
    files.flatMap((f) => (f[key] === null ? [] : [f[key]]));
  const started = times('source_started');
  const ended = times('source_ended');
  const first = (key: keyof FileProps) => props.find((p) => p[key] !== undefined)?.[key] ?? null;
  return {
    source_started: started.length ? Math.min(...started) : null,
    source_ended: ended.length ? Math.max(...ended) : null,
    source_sensor_class: first('source_sensor_class'),
    source_sensor: first('source_sensor'),
    source_collection: first('source_collection'),
    source_task: first('source_task'),
  };
}

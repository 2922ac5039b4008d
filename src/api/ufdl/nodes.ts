import type { FastifyRequest } from 'fastify';
import {
  createDescribedNode,
  describeNode,
  type NodeDescription,
} from '../../engine/nodes/node-properties.js';
import { removeNode } from '../../engine/nodes/node-registry.js';
import { getNode } from '../../engine/queries.js';
import { liveExecutionsOfNode } from '../../store/executions.js';
import { listNodes } from '../../store/nodes.js';
import type { NodeRow } from '../../store/schema.js';
import { allow, isAdmin, isAuthenticated } from './auth.js';
import type { UfdlFace } from './context.js';
import { NOT_FOUND, UfdlFieldErrors } from './errors.js';
import { compareRows, matches, parseFilterSpec, type FieldCatalog } from './filter-spec.js';
import { ufdlTime } from './job-json.js';
import type { RouteTable } from './routing.js';

/*
 * UFDL's nodes are Drover nodes. A UFDL node is one GPU of a machine, unique by (ip, index);
 * its Drover name is "<ip>#<index>", its UFDL fields live in the node's props, and it is in
 * the pool "ufdl" (where the jobs made from templates wait, out of reach of Drover's own
 * workers). Nodes registered natively show with their hostname as ip and index 0.
 */

export const UFDL_POOL = 'ufdl';
const NODE = '/nodes/:pk(^\\d+)';

interface UfdlNodeProps {
  ip: string;
  index: number;
  driver_version: string | null;
  hardware_generation: number | null;
  gpu_mem: number | null;
  cpu_mem: number;
}

function propsOf(node: NodeRow): UfdlNodeProps {
  let stored: Partial<UfdlNodeProps> = {};
  try {
    stored = (JSON.parse(node.props_json) as { ufdl?: Partial<UfdlNodeProps> }).ufdl ?? {};
  } catch {
    // not ours
  }
  return {
    ip: stored.ip ?? node.hostname,
    index: stored.index ?? 0,
    driver_version: stored.driver_version ?? null,
    hardware_generation: stored.hardware_generation ?? null,
    gpu_mem: stored.gpu_mem ?? null,
    cpu_mem: stored.cpu_mem ?? node.mem,
  };
}

const FIELDS: FieldCatalog = {
  pk: { column: 'pk', kind: 'int' },
  ip: { column: 'ip', kind: 'text' },
  index: { column: 'index', kind: 'int' },
  driver_version: { column: 'driver_version', kind: 'text' },
  hardware_generation: { column: 'hardware_generation', kind: 'int' },
  gpu_mem: { column: 'gpu_mem', kind: 'int' },
  cpu_mem: { column: 'cpu_mem', kind: 'int' },
  last_seen: { column: 'last_seen_ms', kind: 'time' },
  current_job: { column: 'current_job', kind: 'int' },
};

/** Checks a node body the way DRF's serializer does; `partial` for PATCH. */
function description(
  body: unknown,
  base: UfdlNodeProps | undefined,
): NodeDescription & { props: { ufdl: UfdlNodeProps } } {
  const o = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const errors: Record<string, string[]> = {};
  const p: UfdlNodeProps = base
    ? { ...base }
    : {
        ip: '',
        index: 0,
        driver_version: null,
        hardware_generation: null,
        gpu_mem: null,
        cpu_mem: 0,
      };
  const take = (
    key: keyof UfdlNodeProps,
    kind: 'string' | 'int',
    nullable: boolean,
    required: boolean,
  ) => {
    const v = o[key];
    if (v === undefined) {
      if (required && !base) errors[key] = ['This field is required.'];
      return;
    }
    if (v === null && nullable) {
      (p as unknown as Record<string, unknown>)[key] = null;
      return;
    }
    if (kind === 'string' && typeof v === 'string') {
      if (key === 'ip' && v.length > 39)
        errors[key] = ['Ensure this field has no more than 39 characters.'];
      (p as unknown as Record<string, unknown>)[key] = v;
    } else if (
      kind === 'int' &&
      Number.isInteger(Number(v)) &&
      v !== '' &&
      typeof v !== 'boolean'
    ) {
      (p as unknown as Record<string, unknown>)[key] = Number(v);
    } else {
      errors[key] = [kind === 'int' ? 'A valid integer is required.' : 'Not a valid string.'];
    }
  };
  take('ip', 'string', false, true);
  take('index', 'int', false, true);
  take('driver_version', 'string', true, false);
  take('hardware_generation', 'int', true, false);
  take('gpu_mem', 'int', true, false);
  take('cpu_mem', 'int', false, true);
  if (Object.keys(errors).length > 0) throw new UfdlFieldErrors(errors);
  return {
    name: `${p.ip}#${p.index}`,
    hostname: p.ip,
    mem: p.cpu_mem,
    gpus: 1,
    pools: [UFDL_POOL],
    props: { ufdl: p },
  };
}

export function nodeRoutes(face: UfdlFace, routes: RouteTable): void {
  const { ctx } = face.engine;
  const nodeJson = async (node: NodeRow) => {
    const live = await liveExecutionsOfNode(ctx.db, node.id);
    return {
      pk: node.id,
      ...propsOf(node),
      last_seen: ufdlTime(node.last_heartbeat),
      current_job: live.find((e) => e.state === 'RUNNING')?.job_id ?? null,
    };
  };
  const load = async (request: FastifyRequest) => {
    const pk = Number((request.params as { pk: string }).pk);
    try {
      return await getNode(ctx, pk);
    } catch {
      throw NOT_FOUND();
    }
  };
  const unique = () =>
    new UfdlFieldErrors({ non_field_errors: ['The fields ip, index must make a unique set.'] });

  routes.add('POST', '/nodes/list', async (request) => {
    allow(request, isAuthenticated(request));
    const spec = parseFilterSpec(FIELDS, request.body);
    // Nodes are few (one per GPU of the farm): read them and filter here.
    const { rows } = await listNodes(ctx.db, { limit: 100_000, offset: 0 });
    const all = await Promise.all(rows.map(nodeJson));
    const shaped = all.map((n, i) => ({ ...n, last_seen_ms: rows[i]!.last_heartbeat }));
    return shaped
      .filter((n) => spec.conditions.every((c) => matches(n, c)))
      .sort(compareRows([...spec.order, { column: 'pk', ascending: true }]))
      .map(({ last_seen_ms: _omit, ...n }) => n);
  });

  routes.add('POST', '/nodes/create', async (request, reply) => {
    allow(request, isAuthenticated(request));
    const principal = request.principal;
    const account = principal && principal.role !== 'admin' ? principal.id : null;
    const node = await createDescribedNode(ctx, description(request.body, undefined), account);
    if (!node) throw unique();
    return reply.status(201).send(await nodeJson(node));
  });

  routes.add('GET', NODE, async (request) => {
    allow(request, isAuthenticated(request));
    return nodeJson(await load(request));
  });

  const update = (partial: boolean) => async (request: FastifyRequest) => {
    allow(request, isAuthenticated(request));
    const node = await load(request);
    const d = description(request.body, partial ? propsOf(node) : undefined);
    const changed = await describeNode(ctx, node.id, d);
    if (!changed) throw unique();
    return nodeJson(changed);
  };
  routes.add('PUT', NODE, update(false));
  routes.add('PATCH', NODE, update(true));

  // UFDL's NodeIsSelf (the Node-Id header names this node), or staff. Destroy is a real
  // delete there too; a node its jobs still name fails UFDL's integrity check, here 406.
  routes.add('DELETE', NODE, async (request, reply) => {
    const pk = Number((request.params as { pk: string }).pk);
    allow(request, isAdmin(request) || request.ufdlNodeId === pk);
    const node = await load(request);
    await removeNode(ctx, node.id);
    return reply.status(204).send();
  });

  // The Node-Id header already marked the node seen; ping only insists on one.
  routes.add('GET', '/nodes/ping', async (request, reply) => {
    allow(request, request.ufdlNodeId !== undefined);
    return reply.status(204).send();
  });
}

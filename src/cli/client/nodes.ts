import type { Command } from 'commander';
import { ApiError, type ApiClient } from './api-client.js';
import {
  action,
  clientOf,
  commonFlags,
  err,
  out,
  printJson,
  withClientOptions,
} from './command-support.js';
import { details, mebibytes, table, timestamp, type Column } from './format.js';
import type { Node } from './resources.js';

/*
 * `drover nodes`: the worker nodes; `drover nodes enable|disable|unquarantine ID…`;
 * `drover nodes show ID`; `drover nodes why-idle ID`.
 */

const NODE_COLUMNS: readonly Column<Node>[] = [
  { header: 'ID', value: (n) => n.id, right: true },
  { header: 'NAME', value: (n) => n.name, max: 30 },
  { header: 'HOSTNAME', value: (n) => n.hostname, max: 30 },
  // OFFLINE, QUARANTINED, DISABLED, BUSY or IDLE (src/domain/node-status.ts).
  { header: 'STATUS', value: (n) => n.status },
  { header: 'POOLS', value: (n) => n.pools.join(',') || '-' },
  { header: 'GROUPS', value: (n) => n.groups.join(',') || '-' },
  { header: 'RUNNING', value: (n) => `${n.currentExecutions.length}/${n.slots}`, right: true },
  { header: 'CPUS', value: (n) => n.resources.cpus, right: true },
  { header: 'MEM', value: (n) => mebibytes(n.resources.mem), right: true },
  { header: 'GPUS', value: (n) => n.resources.gpus, right: true },
  // What OpenJD host requirements match most often (docs/openjd.md#host-requirements).
  {
    header: 'OS/ARCH',
    value: (n) =>
      [
        n.capabilities.attributes['attr.worker.os.family']?.join(',') ?? '-',
        n.capabilities.attributes['attr.worker.cpu.arch']?.join(',') ?? '-',
      ].join('/'),
  },
  { header: 'LAST HEARTBEAT', value: (n) => timestamp(n.lastHeartbeat) },
];

function nodeDetails(n: Node): string {
  const r = n.resources;
  const { attributes, amounts } = n.capabilities;
  return details([
    ['Node', `${n.id}  ${n.name}`],
    ['Hostname', n.hostname],
    ['Status', n.status],
    ['Pools', n.pools.join(', ') || undefined],
    ['Groups', n.groups.join(', ') || undefined],
    ['Running', `${n.currentExecutions.length}/${n.slots}`],
    [
      'Resources',
      `${r.cpus} cpus, ${mebibytes(r.mem)} memory, ${r.gpus} gpus, ${mebibytes(r.disk)} disk`,
    ],
    ...Object.entries(attributes).map(([name, v]) => [name, v.join(', ')] as const),
    ...Object.entries(amounts).map(([name, v]) => [name, v] as const),
    ['Last heartbeat', timestamp(n.lastHeartbeat)],
  ]);
}

/** A node by id, or by name when the text is not a number. */
async function resolveNode(
  client: ApiClient,
  nodes: Node[] | undefined,
  text: string,
): Promise<number> {
  if (/^\d+$/.test(text)) return Number(text);
  const list = nodes ?? (await client.all<Node>('/nodes'));
  const node = list.find((n) => n.name === text);
  if (!node) throw new ApiError(404, 'NOT_FOUND', `node ${text} does not exist`);
  return node.id;
}

export function registerNodesCommand(program: Command): void {
  const nodes = withClientOptions(
    program
      .command('nodes')
      .summary('list worker nodes')
      .description('List worker nodes; enable or disable them.'),
  ).action(
    action(async (_flags: unknown, command: Command) => {
      const common = commonFlags(command);
      const list = await clientOf(common).all<Node>('/nodes');
      if (common.json) return printJson(list);
      out(list.length ? table(NODE_COLUMNS, list) : 'no nodes: start one with `drover worker`\n');
    }),
  );

  const descriptions = {
    enable: 'let nodes take work (lifts a quarantine too)',
    disable: 'stop giving nodes work (running tasks finish)',
    unquarantine: 'lift the quarantine their failure rate put nodes in',
  };
  for (const verb of ['enable', 'disable', 'unquarantine'] as const) {
    withClientOptions(
      nodes
        .command(verb)
        .description(descriptions[verb])
        .argument('<nodes...>', 'node ids or names'),
    ).action(
      action(async (texts: string[], _flags: unknown, command: Command) => {
        const common = commonFlags(command);
        const client = clientOf(common);
        const all = texts.some((t) => !/^\d+$/.test(t))
          ? await client.all<Node>('/nodes')
          : undefined;
        const results: unknown[] = [];
        let failed = false;
        for (const text of texts) {
          try {
            const id = await resolveNode(client, all, text);
            const node =
              verb === 'unquarantine'
                ? await client.request<Node>('DELETE', `/nodes/${id}/quarantine`, {})
                : await client.post<Node>(`/nodes/${id}/${verb}`);
            results.push({ node: text, ok: true, result: node });
            if (!common.json)
              out(
                `node ${node.name} ${verb === 'unquarantine' ? 'let out of quarantine' : `${verb}d`}\n`,
              );
          } catch (error) {
            if (!(error instanceof ApiError)) throw error;
            failed = true;
            results.push({
              node: text,
              ok: false,
              error: { code: error.code, message: error.message },
            });
            if (!common.json) err(`drover: ${error.message}\n`);
          }
        }
        if (common.json) printJson(results);
        return failed ? 1 : 0;
      }),
    );
  }
  withClientOptions(
    nodes
      .command('show')
      .description('one node: its state, resources and the capabilities its worker reported')
      .argument('<node>', 'node id or name'),
  ).action(
    action(async (text: string, _flags: unknown, command: Command) => {
      const common = commonFlags(command);
      const client = clientOf(common);
      const node = await client.get<Node>(`/nodes/${await resolveNode(client, undefined, text)}`);
      if (common.json) return printJson(node);
      out(nodeDetails(node));
    }),
  );
  withClientOptions(
    nodes
      .command('why-idle')
      .description(
        'why a node takes no work: what stops the node, then what stops it from taking each queued job',
      )
      .argument('<node>', 'node id or name')
      .option('--limit <n>', 'queued jobs to explain, 1 to 100', '20'),
  ).action(
    action(async (text: string, flags: { limit: string }, command: Command) => {
      const common = commonFlags(command);
      const client = clientOf(common);
      const id = await resolveNode(client, undefined, text);
      const answer = await client.get<IdleReasons>(`/nodes/${id}/idle-reasons`, {
        limit: flags.limit,
      });
      if (common.json) return printJson(answer);
      const lines = [`node ${answer.nodeName} is ${answer.status}`];
      for (const r of answer.reasons) lines.push(`  ${r.code}: ${r.message}`);
      if (answer.jobs.length === 0) lines.push('no job has queued tasks');
      for (const j of answer.jobs) {
        const head = `job ${j.jobId} ${j.name} (priority ${j.priority})`;
        if (j.reasons.length === 0) lines.push(`${head}: it may take it at its next claim`);
        else for (const r of j.reasons) lines.push(`${head}: ${r.code}: ${r.message}`);
      }
      if (answer.queuedJobs > answer.jobs.length) {
        lines.push(`… and ${answer.queuedJobs - answer.jobs.length} more queued job(s)`);
      }
      out(lines.join('\n') + '\n');
    }),
  );
}

interface IdleReasons {
  nodeName: string;
  status: string;
  reasons: { code: string; message: string }[];
  jobs: {
    jobId: number;
    name: string;
    priority: number;
    reasons: { code: string; message: string }[];
  }[];
  queuedJobs: number;
}

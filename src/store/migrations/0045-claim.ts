import { CLAIM as CLAIM_0044 } from './0044-claim.js';

/*
 * The PostgreSQL texts migration 0045 (0045-host-capabilities.ts) runs: `drover_host_match`,
 * `drover_retry_open` again with the host test, and `drover_claim` whole: 0044's text with
 * one test added to its eligibility (ELIGIBLE there, written five times into the function),
 * right after the resource tests. 0044's text is fixed (a landed migration is never
 * edited), so the text below is 0044's plus exactly those five lines; the migration fails
 * if the anchor is not found five times.
 */

const ANCHOR = `and j.req_disk <= nd.disk and j.req_gpus <= nd.gpus`;
const HOST_TEST = `${ANCHOR}
                and (j.req_host is null
                  or drover_host_match(j.req_host, nd.host_caps, nd.cpus, nd.mem, nd.gpus, nd.disk))`;

function withHostTest(text: string): string {
  const found = text.split(ANCHOR).length - 1;
  if (found !== 5) throw new Error(`0045: the claim's resource test found ${found} times, not 5`);
  return text.split(ANCHOR).join(HOST_TEST);
}

export const CLAIM = withHostTest(CLAIM_0044);

/**
 * Whether a node with capabilities `p_caps` (nodes.host_caps) and resources meets the
 * requirement `p_req` (jobs.req_host), as domain/host-capabilities.ts decides on SQLite:
 * every attribute reported with anyOf one of its values / allOf all of them, and every
 * amount within its min and max; the four resource amounts are the node's resources (scratch
 * disk in GiB), any other amount what it reported, 0 when it reported nothing.
 */
export const HOST_MATCH = `
  create or replace function drover_host_match(p_req text, p_caps text,
    p_cpus double precision, p_mem double precision, p_gpus double precision,
    p_disk double precision) returns boolean
  language sql immutable as $fn$
    select not exists (
        select 1 from jsonb_array_elements(r.v -> 'attributes') a
        where not coalesce(
          jsonb_typeof(c.v -> 'attributes' -> (a ->> 'name')) = 'array'
          and (a -> 'anyOf' is null or exists (
            select 1 from jsonb_array_elements_text(a -> 'anyOf') w
            where c.v -> 'attributes' -> (a ->> 'name') @> to_jsonb(w)))
          and (a -> 'allOf' is null
            or c.v -> 'attributes' -> (a ->> 'name') @> (a -> 'allOf')), false))
      and not exists (
        select 1 from jsonb_array_elements(r.v -> 'amounts') m
        cross join lateral (select case m ->> 'name'
            when 'amount.worker.vcpu' then p_cpus
            when 'amount.worker.memory' then p_mem
            when 'amount.worker.gpu' then p_gpus
            when 'amount.worker.disk.scratch' then p_disk / 1024
            else coalesce((c.v -> 'amounts' ->> (m ->> 'name'))::double precision, 0)
          end as have) x
        where x.have < coalesce((m ->> 'min')::double precision, x.have)
          or x.have > coalesce((m ->> 'max')::double precision, x.have))
    from (select p_req::jsonb as v) r, (select coalesce(p_caps, '{}')::jsonb as v) c
  $fn$
`;

/** 0039's drover_retry_open, whose test of whether a node could take the job at all now
 * includes the host requirement. */
const COULD_TAKE = `n.enabled = 1 and n.state = 'ONLINE'
      and (j.pool = '' or j.pool in (select json_array_elements_text(n.pools_json::json)))
      and (j.grp = '' or j.grp in (select json_array_elements_text(n.groups_json::json)))
      and j.req_cpus <= n.cpus and j.req_mem <= n.mem and j.req_disk <= n.disk
      and j.req_gpus <= n.gpus
      and (j.req_host is null
        or drover_host_match(j.req_host, n.host_caps, n.cpus, n.mem, n.gpus, n.disk))
      and (j.node_list_mode = 'NONE'
        or (j.node_list_mode = 'ALLOW') = exists (select 1 from job_node_list l
          where l.job_id = j.id and l.node_name = n.name))
      and not exists (select 1 from job_node_failures b
        where b.job_id = j.id and b.node_id = n.id and b.blocked = 1)`;

export const RETRY_OPEN = `
  create or replace function drover_retry_open(p_job bigint, p_pin bigint, p_rule text,
    p_node bigint) returns boolean
  language sql stable as $fn$
    select case when p_rule = 'SAME' then p_pin = p_node or not exists (
        select 1 from nodes n, jobs j where n.id = p_pin and j.id = p_job and ${COULD_TAKE})
      else p_pin <> p_node or not exists (
        select 1 from nodes n, jobs j where n.id <> p_node and j.id = p_job and ${COULD_TAKE})
      end
  $fn$
`;

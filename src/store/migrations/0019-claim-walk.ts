import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * Two changes to the claim's walk of the queue, one per database.
 *
 * PostgreSQL: `drover_claim` (0015) again, with two changes measured with perf on its
 * backend (10 claims of 10 tasks per call):
 * - PL/pgSQL planned each of its statements afresh on every run (the plan cache kept
 *   choosing custom plans): 22% of the backend's CPU. It now keeps generic plans, which
 *   are the plans the custom ones were: the states are literals (so `jobs_dispatchable`
 *   serves the walk whatever the parameters), and every other statement is by key.
 * - It answered each task with its job's whole row as jsonb, ten copies for a claim of ten
 *   from one job: building them was 19% of its CPU, and the server parsed them all again.
 *   It now answers each job it took tasks of once, as json (text, never binary jsonb):
 *   o_taken is [{j: job, x: [{e: execution, t: task, q: when queued}…]}…].
 * The walk is otherwise unchanged, statement for statement, except that a machine limit
 * leaves out the nodes whose task has passed the job's release percentage (0018).
 *
 * SQLite: the claims of one transaction share their first look at the queue where no job
 * that can hand out work has a machine limit or a node list (engine/dispatcher.ts,
 * FirstLooks); the partial index `jobs_node_specific` answers "is there one?" without
 * walking the queue.
 */
export function claimWalkSchema(dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    if (dialect === 'postgres') {
      await sql`
        drop function drover_claim(bigint[], int[], boolean[], bigint, bigint, bigint, int,
          int, int)
      `.execute(db);
      await sql`
        create function drover_claim(
          p_node_ids bigint[], p_maxes int[], p_starts boolean[], p_now bigint,
          p_lease_expires_at bigint, p_heartbeat_before bigint, p_max_claim int,
          p_max_skipped int, p_jobs_per_look int
        ) returns table (o_claim int, o_found boolean, o_prior_state text, o_enabled int,
          o_contended boolean, o_taken json)
        language plpgsql set plan_cache_mode = force_generic_plan as $fn$
        declare
          nd record;
          cand record;
          v_want int;
          v_taken int;
          v_pools text[];
          v_groups text[];
          v_skipped bigint[];
          v_ids bigint[];
          v_queued bigint[];
          v_n int;
          v_limit int;
          v_release double precision;
          v_job jobs;
          v_part json;
          v_parts json[];
          v_start boolean;
          v_more boolean;
        begin
          for i in 1 .. coalesce(array_length(p_node_ids, 1), 0) loop
            o_claim := i;
            o_found := false;
            o_prior_state := null;
            o_enabled := 0;
            o_contended := false;
            o_taken := '[]'::json;
            v_parts := '{}';
            select n.*, (select count(*) from executions x
                where x.node_id = n.id and x.state in ('ACQUIRED', 'RUNNING')) as live
              into nd from nodes n where n.id = p_node_ids[i];
            if not found then
              return next;
              continue;
            end if;
            o_found := true;
            o_prior_state := nd.state;
            o_enabled := nd.enabled;
            if nd.state <> 'ONLINE' or coalesce(nd.last_heartbeat, 0) < p_heartbeat_before then
              update nodes set last_heartbeat = p_now, state = 'ONLINE' where id = nd.id;
            end if;
            v_want := least(greatest(1, least(coalesce(p_maxes[i], 1), p_max_claim)),
              nd.slots - nd.live);
            if nd.enabled <> 1 or v_want <= 0 then
              return next;
              continue;
            end if;
            v_pools := array(select json_array_elements_text(nd.pools_json::json));
            if cardinality(v_pools) = 0 then v_pools := array['']; end if;
            v_groups := array(select json_array_elements_text(nd.groups_json::json));
            if cardinality(v_groups) = 0 then v_groups := array['']; end if;
            v_start := coalesce(p_starts[i], false);
            v_skipped := '{}';
            v_taken := 0;
            <<looks>>
            while cardinality(v_skipped) <= p_max_skipped loop
              v_more := false;
              for cand in
                select j.id, j.machine_limit from jobs as j
                where j.state in ('QUEUED', 'RUNNING') and j.deleted_at is null
                  and j.tasks_queued > 0
                  and (j.pool = '' or j.pool = any(v_pools))
                  and (j.grp = '' or j.grp = any(v_groups))
                  and j.req_cpus <= nd.cpus and j.req_mem <= nd.mem
                  and j.req_disk <= nd.disk and j.req_gpus <= nd.gpus
                  and (j.node_list_mode = 'NONE'
                    or (j.node_list_mode = 'ALLOW' and exists (select 1 from job_node_list l
                      where l.job_id = j.id and l.node_name = nd.name))
                    or (j.node_list_mode = 'DENY' and not exists (select 1 from job_node_list l
                      where l.job_id = j.id and l.node_name = nd.name)))
                  and (j.machine_limit = 0
                    or exists (select 1 from executions x where x.job_id = j.id
                      and x.node_id = nd.id and x.state in ('ACQUIRED', 'RUNNING'))
                    or (select count(distinct x.node_id) from executions x where x.job_id = j.id
                      and x.node_id <> nd.id and x.state in ('ACQUIRED', 'RUNNING')
                      and (j.machine_limit_release < 0 or x.progress < j.machine_limit_release))
                      < j.machine_limit)
                  and j.id <> all(v_skipped)
                order by j.priority desc, j.created_at, j.id
                limit p_jobs_per_look
              loop
                v_more := true;
                -- Whatever happens below, this job has given this claim all it will.
                v_skipped := v_skipped || cand.id;
                if cand.machine_limit > 0 then
                  -- Under the job's lock, concurrent claims count each other.
                  select machine_limit, machine_limit_release into v_limit, v_release
                    from jobs where id = cand.id for update;
                  if not found then continue; end if;
                  if not exists (select 1 from executions x where x.job_id = cand.id
                      and x.node_id = nd.id and x.state in ('ACQUIRED', 'RUNNING'))
                    and (select count(distinct x.node_id) from executions x
                      where x.job_id = cand.id and x.node_id <> nd.id
                      and x.state in ('ACQUIRED', 'RUNNING')
                      and (v_release < 0 or x.progress < v_release)) >= v_limit then
                    continue;
                  end if;
                end if;
                select array_agg(s.id order by s.task_index),
                    array_agg(s.last_status_change order by s.task_index)
                  into v_ids, v_queued
                  from (select t.id, t.task_index, t.last_status_change from tasks t
                    where t.job_id = cand.id and t.state = 'QUEUED'
                    order by t.task_index limit v_want - v_taken
                    for update skip locked) s;
                if v_ids is null then
                  o_contended := true;
                  continue;
                end if;
                v_n := cardinality(v_ids);
                -- Never wait on the job's row: two groups of claims that each held a job the
                -- other wanted would deadlock (see store/task-claims.ts).
                update jobs set num_exes = num_exes + v_n, tasks_queued = tasks_queued - v_n,
                    tasks_running = tasks_running + v_n
                  where id = (select l.id from jobs l where l.id = cand.id
                    for update skip locked)
                  returning * into v_job;
                if not found then
                  o_contended := true;
                  continue;
                end if;
                with x as (
                  insert into executions (job_id, task_id, node_id, exe_num, state,
                    lease_expires_at, progress, exit_code, error_name, error_message, timed_out,
                    log_lines, created_at, started_at, ended_at, last_heartbeat, last_modified)
                  select v_job.id, v.task_id, nd.id, v_job.num_exes - v_n + v.ord,
                    case when v_start then 'RUNNING' else 'ACQUIRED' end, p_lease_expires_at,
                    0, null, null, null, 0, 0, p_now, case when v_start then p_now end, null,
                    p_now, p_now
                  from unnest(v_ids) with ordinality as v(task_id, ord)
                  returning *
                ), t as (
                  update tasks set state = 'RUNNING', node_id = nd.id, progress = 0,
                    started_at = p_now, ended_at = null, last_status_change = p_now,
                    last_modified = p_now, last_execution_id = x.id
                  from x where tasks.id = x.task_id
                  returning tasks.*
                )
                select json_build_object('j', row_to_json(v_job), 'x', json_agg(
                    json_build_object('e', row_to_json(x), 't', row_to_json(t),
                      'q', v_queued[(x.exe_num - (v_job.num_exes - v_n))::int])
                    order by x.exe_num))
                  into v_part from x join t on t.id = x.task_id;
                v_parts := v_parts || v_part;
                v_taken := v_taken + v_n;
                if v_taken >= v_want then exit looks; end if;
              end loop;
              if not v_more then exit; end if;
            end loop;
            o_taken := array_to_json(v_parts);
            return next;
          end loop;
        end $fn$`.execute(db);
      return;
    }
    await sql`
      create index jobs_node_specific on jobs (id)
      where state in ('QUEUED', 'RUNNING') and deleted_at is null
        and (machine_limit > 0 or node_list_mode <> 'NONE')
    `.execute(db);
  }
  return { up };
}

import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * PostgreSQL: `drover_claim` again (0019, 0021), so that the write lane can run two
 * transactions at once. A claim used to move its job's counters as soon as it had chosen
 * tasks, and a finish as soon as it had written its executions; each update locked the
 * job's row until commit. Every node of a farm works on the same few jobs, so a second
 * transaction queued on the first one's job rows for the rest of its length: two at once
 * were no faster than one (engine/dispatch/write-lane.ts).
 *
 * Now the walk chooses tasks (locked `for update skip locked`, as before) without touching
 * a job's row, and the counters of every job a group claimed from or finished tasks of
 * (`p_done_job_ids`, `p_done_counts`: the transaction's finishes, engine/dispatch/
 * lane-end.ts) move at the end, job by job in id order, each with its executions, whose
 * numbers come from the job's counter as before. A job's row is then locked for the last
 * statements of the group and its commit only; rows are always locked in id order, and
 * neither the walk nor a job only claimed from ever waits on a lock (a claimed job whose row
 * another transaction holds gives its chosen tasks back, as contended), so two
 * transactions cannot wait on each other.
 *
 * What the walk chose is not yet in any counter or execution, so it counts its own choices
 * where the old walk read them back: a node's free slots, the tasks a job has left, and a
 * machine limit's nodes. Two claims of one node in two transactions (two lanes, or two
 * replicas) would both count the same free slots: a claim takes its node's advisory lock,
 * tried and never awaited, and a claim that finds it held takes nothing this time (it is
 * contended, and its dispatcher looks again). A lock on the node's row could be awaited:
 * a heartbeat locks its node's row and then its executions, which a lane's finishes hold. A machine limit's concurrent claims in other transactions count
 * each other under a transaction-scoped advisory lock per job, tried and never awaited (a
 * job whose lock is held is passed over as contended, as a locked task is). The limits'
 * and blocked nodes' tests that 0025 and 0026 wrote into the old function are here too; a
 * limit's room also counts this group's choices of the jobs that share the limit.
 */
export function claimCountersLastSchema(dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    if (dialect !== 'postgres') return;
    await sql`
      drop function drover_claim(bigint[], int[], boolean[], bigint, bigint, bigint, int,
        int, int)
    `.execute(db);
    await sql`
      create function drover_claim(
        p_node_ids bigint[], p_maxes int[], p_starts boolean[], p_now bigint,
        p_lease_expires_at bigint, p_heartbeat_before bigint, p_max_claim int,
        p_max_skipped int, p_jobs_per_look int, p_done_job_ids bigint[], p_done_counts int[]
      ) returns table (o_claim int, o_found boolean, o_prior_state text, o_enabled int,
        o_contended boolean, o_taken json)
      language plpgsql set plan_cache_mode = force_generic_plan as $fn$
      declare
        nd record;
        cand record;
        v_claims int := coalesce(array_length(p_node_ids, 1), 0);
        v_want int;
        v_taken int;
        v_pools text[];
        v_groups text[];
        v_skipped bigint[];
        v_ids bigint[];
        v_queued bigint[];
        v_n int;
        v_done int;
        v_limit int;
        v_release double precision;
        v_start boolean;
        v_more boolean;
        v_room int;
        v_jobs bigint[];
        v_dropped bigint[] := '{}';
        -- Advisory locks are the database's, not the schema's: each schema keys its own.
        v_node_locks int := hashtext(current_schema() || '/drover_claim/node');
        v_job_locks int := hashtext(current_schema() || '/drover_claim/job');
        v_job jobs;
        -- What the walk chose, one entry per task in the order chosen.
        c_claim int[] := '{}';
        c_job bigint[] := '{}';
        c_task bigint[] := '{}';
        c_node bigint[] := '{}';
        c_queued bigint[] := '{}';
        c_start boolean[] := '{}';
        -- Per claim.
        r_found boolean[] := array_fill(false, array[v_claims]);
        r_prior text[] := array_fill(null::text, array[v_claims]);
        r_enabled int[] := array_fill(0, array[v_claims]);
        r_contended boolean[] := array_fill(false, array[v_claims]);
      begin
        for i in 1 .. v_claims loop
          select n.*, (select count(*) from executions x where x.node_id = n.id
              and x.ended_at is null and x.state in ('ACQUIRED', 'RUNNING')) as live
            into nd from nodes n where n.id = p_node_ids[i];
          if not found then continue; end if;
          r_found[i] := true;
          r_prior[i] := nd.state;
          r_enabled[i] := nd.enabled;
          if not pg_try_advisory_xact_lock(v_node_locks, (nd.id % 2147483647)::int) then
            r_contended[i] := true;
            continue;
          end if;
          if nd.state <> 'ONLINE' or coalesce(nd.last_heartbeat, 0) < p_heartbeat_before then
            -- Not awaited: a heartbeat that holds the row is marking the node alive itself.
            update nodes set last_heartbeat = p_now, state = 'ONLINE'
              where id = (select l.id from nodes l where l.id = nd.id for update skip locked);
          end if;
          v_want := least(greatest(1, least(coalesce(p_maxes[i], 1), p_max_claim)),
            nd.slots - nd.live - (select count(*) from unnest(c_node) u where u = nd.id));
          if nd.enabled <> 1 or v_want <= 0 then continue; end if;
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
              select j.id, j.machine_limit, j.tasks_queued, j.uses_limits from jobs as j
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
                    and x.node_id = nd.id and x.ended_at is null
                    and x.state in ('ACQUIRED', 'RUNNING'))
                  or (select count(distinct x.node_id) from executions x where x.job_id = j.id
                    and x.node_id <> nd.id and x.ended_at is null
                    and x.state in ('ACQUIRED', 'RUNNING')
                    and (j.machine_limit_release < 0 or x.progress < j.machine_limit_release))
                    < j.machine_limit)
                and (j.uses_limits = 0 or drover_limits_open(j.id, nd.id, nd.name))
                and (j.blocked_nodes = 0 or not exists (select 1 from job_node_failures b
                    where b.job_id = j.id and b.node_id = nd.id and b.blocked = 1))
                and j.id <> all(v_skipped)
              order by j.priority desc, j.created_at, j.id
              limit p_jobs_per_look
            loop
              v_more := true;
              -- Whatever happens below, this job has given this claim all it will.
              v_skipped := v_skipped || cand.id;
              if cand.machine_limit > 0 then
                if not pg_try_advisory_xact_lock(v_job_locks, (cand.id % 2147483647)::int) then
                  r_contended[i] := true;
                  continue;
                end if;
                select machine_limit, machine_limit_release into v_limit, v_release
                  from jobs where id = cand.id;
                if not found then continue; end if;
                if not exists (select 1 from executions x where x.job_id = cand.id
                    and x.node_id = nd.id and x.ended_at is null
                    and x.state in ('ACQUIRED', 'RUNNING'))
                  and not exists (select 1 from unnest(c_job, c_node) u(j, n)
                    where u.j = cand.id and u.n = nd.id)
                  and (select count(distinct s.n) from (
                      select x.node_id as n from executions x
                      where x.job_id = cand.id and x.node_id <> nd.id and x.ended_at is null
                        and x.state in ('ACQUIRED', 'RUNNING')
                        and (v_release < 0 or x.progress < v_release)
                      union all
                      select u.n from unnest(c_job, c_node) u(j, n)
                      where u.j = cand.id and u.n <> nd.id) s) >= v_limit then
                  continue;
                end if;
              end if;
              v_room := v_want - v_taken;
              if cand.uses_limits <> 0 then
                -- Under the limits' locks (0025), concurrent transactions count each other;
                -- this group's own choices are not RUNNING yet, so it counts those itself:
                -- every task it chose of a job sharing a limit with this one.
                v_n := drover_limits_room(cand.id, nd.id, nd.name);
                if v_n < 0 then
                  r_contended[i] := true;
                  continue;
                end if;
                v_room := least(v_room, v_n - (select count(*) from unnest(c_job) u
                  where u in (select o.job_id from job_limits jl
                    join job_limits o on o.limit_name = jl.limit_name
                    where jl.job_id = cand.id)));
                if v_room <= 0 then continue; end if;
              end if;
              select array_agg(s.id order by s.task_index),
                  array_agg(s.last_status_change order by s.task_index)
                into v_ids, v_queued
                from (select t.id, t.task_index, t.last_status_change from tasks t
                  where t.job_id = cand.id and t.state = 'QUEUED' and t.id <> all(c_task)
                  order by t.task_index limit v_room
                  for update skip locked) s;
              if v_ids is null then
                -- Tasks left that this group did not choose are held by another transaction.
                if cand.tasks_queued > (select count(*) from unnest(c_job) u where u = cand.id)
                then
                  r_contended[i] := true;
                end if;
                continue;
              end if;
              v_n := cardinality(v_ids);
              c_claim := c_claim || array_fill(i, array[v_n]);
              c_job := c_job || array_fill(cand.id, array[v_n]);
              c_task := c_task || v_ids;
              c_node := c_node || array_fill(nd.id, array[v_n]);
              c_queued := c_queued || v_queued;
              c_start := c_start || array_fill(v_start, array[v_n]);
              v_taken := v_taken + v_n;
              if v_taken >= v_want then exit looks; end if;
            end loop;
            if not v_more then exit; end if;
          end loop;
        end loop;

        -- The counters, last and in id order: every job claimed from or finished.
        v_jobs := array(select distinct u from unnest(c_job || coalesce(p_done_job_ids, '{}')) u
          order by u);
        for k in 1 .. coalesce(array_length(v_jobs, 1), 0) loop
          v_n := (select count(*) from unnest(c_job) u where u = v_jobs[k]);
          v_done := coalesce((select sum(d.c) from unnest(p_done_job_ids, p_done_counts)
            d(j, c) where d.j = v_jobs[k]), 0);
          if v_done > 0 then
            update jobs set num_exes = num_exes + v_n, tasks_queued = tasks_queued - v_n,
                tasks_running = tasks_running + v_n - v_done,
                tasks_completed = tasks_completed + v_done
              where id = v_jobs[k]
              returning * into v_job;
          else
            -- Claims alone never wait: a transaction that holds the job's row (an operator's
            -- cancel) may be waiting for the tasks this group has locked.
            update jobs set num_exes = num_exes + v_n, tasks_queued = tasks_queued - v_n,
                tasks_running = tasks_running + v_n
              where id = (select l.id from jobs l where l.id = v_jobs[k]
                for update skip locked)
              returning * into v_job;
          end if;
          if not found then
            v_dropped := v_dropped || v_jobs[k];
            r_contended := array(select r_contended[c] or exists (select 1
                from unnest(c_claim, c_job) u(uc, uj) where uc = c and uj = v_jobs[k])
              from generate_series(1, v_claims) c order by c);
            continue;
          end if;
          if v_n = 0 then continue; end if;
          with x as (
            insert into executions (job_id, task_id, node_id, exe_num, state,
              lease_expires_at, progress, exit_code, error_name, error_message, timed_out,
              log_lines, created_at, started_at, ended_at, last_heartbeat, last_modified)
            select v_job.id, c.t, c.n, v_job.num_exes - v_n + c.ord,
              case when c.s then 'RUNNING' else 'ACQUIRED' end, p_lease_expires_at,
              0, null, null, null, 0, 0, p_now, case when c.s then p_now end, null,
              p_now, p_now
            from (select u.t, u.n, u.s, row_number() over (order by u.o) as ord
              from unnest(c_job, c_task, c_node, c_start) with ordinality u(j, t, n, s, o)
              where u.j = v_jobs[k]) c
            returning id, task_id, node_id
          )
          update tasks set state = 'RUNNING', node_id = x.node_id, progress = 0,
            started_at = p_now, ended_at = null, last_status_change = p_now,
            last_modified = p_now, last_execution_id = x.id
          from x where tasks.id = x.task_id;
        end loop;

        o_claim := 0;
        o_found := true;
        o_prior_state := null;
        o_enabled := 0;
        o_contended := false;
        o_taken := coalesce((select json_agg(row_to_json(j)) from jobs j
          where j.id = any(coalesce(p_done_job_ids, '{}'))), '[]'::json);
        return next;
        for i in 1 .. v_claims loop
          o_claim := i;
          o_found := r_found[i];
          o_prior_state := r_prior[i];
          o_enabled := r_enabled[i];
          o_contended := r_contended[i];
          o_taken := coalesce((
            select json_agg(g.part order by g.first) from (
              select min(u.o) as first, json_build_object('j', row_to_json(j), 'x',
                  json_agg(json_build_object('e', row_to_json(e), 't', row_to_json(t),
                    'q', u.q) order by u.o)) as part
              from unnest(c_claim, c_job, c_task, c_queued) with ordinality u(c, jid, tid, q, o)
              join jobs j on j.id = u.jid
              join tasks t on t.id = u.tid
              join executions e on e.id = t.last_execution_id
              where u.c = i and u.jid <> all(v_dropped)
              group by j.id) g), '[]'::json);
          return next;
        end loop;
      end $fn$
    `.execute(db);
  }
  return { up };
}

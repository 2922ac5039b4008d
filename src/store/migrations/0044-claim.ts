/*
 * The PostgreSQL text migration 0044 (0044-claim-preferences.ts) runs: `drover_claim` whole,
 * with session affinity, over 0042's text.
 */

export const DROP_OLD = `drop function if exists drover_claim(bigint[], integer[], boolean[], bigint, bigint,
  bigint, integer, integer, integer, bigint[], integer[])`;

/** Whether node `nd` may take work from job `j`, not yet passed over by this claim (0039). */
const ELIGIBLE = `(j.pool = '' or j.pool = any(v_pools))
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
                and j.id <> all(v_skipped)`;

/** A page row's share holder (0042): its user, or its project in a pool shared by project. */
const HOLDER = `cross join lateral (select coalesce(po.share_by, 'user') as share_by,
                case when po.share_by = 'project' then p.project else p.user_name end
                  as holder) h`;

/**
 * The order of a page within one priority (0037, with this group's own choices), by share
 * holder `h` (0042: the job's user, or its project in a pool shared by project).
 */
const FAIR_KEY = `                case po.mode
                  when 'balanced' then p.tasks_running
                    + (select count(*) from unnest(c_job) u where u = p.id)
                  when 'weighted' then drover_holder_running(p.pool, h.share_by, h.holder, c_job)
                    / coalesce((select s.share from pool_shares s
                      where s.pool = p.pool and s.user_name = h.holder), 1)
                  else 0 end`;

/**
 * The page of a claim that prefers no job: 0042's statement (with its heads of other share
 * holders after a full page of a weighted pool), whose heads also take every job of a
 * balanced pool in the window after a full page: each such job is its own holder, and one
 * beyond the page with fewer running tasks than the page's comes first (store/claim-looks.ts
 * fairHeads does the same on SQLite).
 */
const PAGE = `              with page as (
                select j.id, j.machine_limit, j.tasks_queued, j.uses_limits, j.uses_capacity, j.req_gpus, j.priority, j.created_at, j.pool, j.user_name, j.project, j.tasks_running, j.pinned_retries
                from jobs as j
                where j.state in ('QUEUED', 'RUNNING') and j.deleted_at is null
                and j.tasks_queued > 0
                and ${ELIGIBLE}
                order by j.priority desc, j.created_at, j.id
                limit p_jobs_per_look),
              heads as (
                select w.id, w.machine_limit, w.tasks_queued, w.uses_limits, w.uses_capacity, w.req_gpus, w.priority, w.created_at, w.pool, w.user_name, w.project, w.tasks_running, w.pinned_retries
                from (select w0.*, wpo.share_by as w_by, wpo.mode as w_mode, row_number() over (
                    partition by w0.pool, case when wpo.mode = 'balanced' then w0.id::text
                      when wpo.share_by = 'project' then w0.project else w0.user_name end
                    order by w0.priority desc, w0.created_at, w0.id) as head
                  from (select j.id, j.machine_limit, j.tasks_queued, j.uses_limits, j.uses_capacity, j.req_gpus, j.priority, j.created_at, j.pool, j.user_name, j.project, j.tasks_running, j.pinned_retries
                    from jobs as j
                    where j.state in ('QUEUED', 'RUNNING') and j.deleted_at is null
                    and j.tasks_queued > 0
                    and ${ELIGIBLE} and j.id not in (select g.id from page g)
                    order by j.priority desc, j.created_at, j.id
                    limit 32) w0
                  join pools wpo on wpo.name = w0.pool and wpo.mode in ('weighted', 'balanced')
                  where (select count(*) from page) >= p_jobs_per_look
                    and exists (select 1 from page g join pools gp on gp.name = g.pool
                      and gp.mode in ('weighted', 'balanced'))) w
                where w.head = 1 and (w.w_mode = 'balanced'
                  or not exists (select 1 from page g where g.pool = w.pool
                  and case when w.w_by = 'project' then g.project else g.user_name end
                    = case when w.w_by = 'project' then w.project else w.user_name end)))
              select p.*, h.share_by, h.holder,
                case when po.mode = 'weighted' then (select s.burst from pool_shares s
                  where s.pool = p.pool and s.user_name = h.holder) end as burst
              from (select * from page union all select * from heads) p
              left join pools po on po.name = p.pool and p.pool <> ''
              ${HOLDER}
              order by p.priority desc,
${FAIR_KEY},
                p.created_at, p.id
`;

/**
 * The page of a claim that prefers jobs: the ordinary page, and up to as many of the jobs
 * it prefers (or their children) of at least the page's lowest priority, ordered together:
 * priority, then the preferred (a job it named itself before a child of one), then fair
 * share and age. The named jobs are read by their ids and their children through
 * `jobs_parent`, each in its own branch, so that no plan walks the queue by priority.
 */
const PREFERRED_PAGE = `
              with n as (select j.id, j.machine_limit, j.tasks_queued, j.uses_limits,
                j.uses_capacity, j.req_gpus, j.priority, j.created_at, j.pool, j.user_name,
                j.project, j.tasks_running, j.pinned_retries, 2 as named from jobs as j
              where j.state in ('QUEUED', 'RUNNING') and j.deleted_at is null
                and j.tasks_queued > 0
                and ${ELIGIBLE}
              order by j.priority desc, j.created_at, j.id
              limit p_jobs_per_look),
              f as (select * from (
                select j.id, j.machine_limit, j.tasks_queued, j.uses_limits,
                  j.uses_capacity, j.req_gpus, j.priority, j.created_at, j.pool, j.user_name,
                  j.project, j.tasks_running, j.pinned_retries, 0 as named from jobs as j
                where j.id = any(v_prefer)
                  and j.state in ('QUEUED', 'RUNNING') and j.deleted_at is null
                  and j.tasks_queued > 0
                  and j.priority >= (select min(m.priority) from n m)
                  and ${ELIGIBLE}
                union all
                select j.id, j.machine_limit, j.tasks_queued, j.uses_limits,
                  j.uses_capacity, j.req_gpus, j.priority, j.created_at, j.pool, j.user_name,
                  j.project, j.tasks_running, j.pinned_retries, 1 as named from jobs as j
                where j.parent_id = any(v_prefer) and j.id <> all(v_prefer)
                  and j.state in ('QUEUED', 'RUNNING') and j.deleted_at is null
                  and j.tasks_queued > 0
                  and j.priority >= (select min(m.priority) from n m)
                  and ${ELIGIBLE}) u
              order by u.priority desc, u.named, u.created_at, u.id
              limit p_jobs_per_look)
              select p.*, h.share_by, h.holder,
                case when po.mode = 'weighted' then (select s.burst from pool_shares s
                  where s.pool = p.pool and s.user_name = h.holder) end as burst
              from (select * from f
                union all select * from n where n.id <> all(array(select f.id from f))) p
              left join pools po on po.name = p.pool and p.pool <> ''
              ${HOLDER}
              order by p.priority desc, p.named,
${FAIR_KEY},
                p.created_at, p.id
`;

/** What the walk does with each job of a page, as in 0042. */
const CLAIM_WALK = `              v_more := true;
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
              if cand.burst is not null then
                -- A hard cap: concurrent transactions count each other under the lock,
                -- keyed as store/pools.ts burstRoom keys it (0042: a project's key apart).
                if not pg_try_advisory_xact_lock(v_user_locks,
                    hashtext(cand.pool || case when cand.share_by = 'project'
                      then '/project/' else '/' end || cand.holder)) then
                  r_contended[i] := true;
                  continue;
                end if;
                v_room := least(v_room, cand.burst
                  - drover_holder_running(cand.pool, cand.share_by, cand.holder, c_job)::int);
                if v_room <= 0 then continue; end if;
              end if;
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
              if cand.uses_capacity <> 0 then
                v_room := least(v_room, drover_capacity_room(nd.id, nd.cpus, nd.mem, nd.gpus,
                  cand.id, c_job, c_node));
                if v_room <= 0 then continue; end if;
              end if;
              if cand.pinned_retries = 0 then
                select array_agg(s.id order by s.task_index),
                    array_agg(s.last_status_change order by s.task_index)
                  into v_ids, v_queued
                  from (select t.id, t.task_index, t.last_status_change from tasks t
                    where t.job_id = cand.id and t.state = 'QUEUED' and t.id <> all(c_task)
                    order by t.task_index limit v_room
                    for update skip locked) s;
              else
                -- Retries bound to a node or kept from one (0039): only those open to this one.
                select array_agg(s.id order by s.task_index),
                    array_agg(s.last_status_change order by s.task_index)
                  into v_ids, v_queued
                  from (select t.id, t.task_index, t.last_status_change from tasks t
                    where t.job_id = cand.id and t.state = 'QUEUED' and t.id <> all(c_task)
                      and (t.retry_node_id is null or drover_retry_open(cand.id,
                        t.retry_node_id, t.retry_node_rule, nd.id))
                    order by t.task_index limit v_room
                    for update skip locked) s;
              end if;
              if v_ids is null then
                -- Tasks left that this group did not choose are held by another transaction
                -- (of a job with node-bound retries: those open to this node).
                if cand.tasks_queued > (select count(*) from unnest(c_job) u where u = cand.id)
                  and (cand.pinned_retries = 0 or exists (select 1 from tasks t
                    where t.job_id = cand.id and t.state = 'QUEUED' and t.id <> all(c_task)
                      and (t.retry_node_id is null or drover_retry_open(cand.id,
                        t.retry_node_id, t.retry_node_rule, nd.id))))
                then
                  r_contended[i] := true;
                end if;
                continue;
              end if;
              v_n := cardinality(v_ids);
              if cand.uses_capacity <> 0 and cand.req_gpus > 0 then
                -- Before c_node takes these tasks: the indexes this group gave out so far.
                v_gpu_free := drover_free_gpus(nd.id, floor(nd.gpus)::int, c_node, c_gpus);
                v_gpu_n := ceil(cand.req_gpus)::int;
                c_gpus := c_gpus || array(select array_to_string(
                    v_gpu_free[(k - 1) * v_gpu_n + 1 : k * v_gpu_n], ',')
                  from generate_series(1, v_n) k order by k);
              else
                c_gpus := c_gpus || array_fill(''::text, array[v_n]);
              end if;
              c_claim := c_claim || array_fill(i, array[v_n]);
              c_job := c_job || array_fill(cand.id, array[v_n]);
              c_task := c_task || v_ids;
              c_node := c_node || array_fill(nd.id, array[v_n]);
              c_queued := c_queued || v_queued;
              c_start := c_start || array_fill(v_start, array[v_n]);
              v_taken := v_taken + v_n;
              if v_taken >= v_want then exit looks; end if;
`;

export const CLAIM = `
create or replace function drover_claim(p_node_ids bigint[], p_maxes integer[], p_starts boolean[], p_now bigint, p_lease_expires_at bigint, p_heartbeat_before bigint, p_max_claim integer, p_max_skipped integer, p_jobs_per_look integer, p_done_job_ids bigint[], p_done_counts integer[], p_prefer_claims integer[], p_prefer_jobs bigint[])
 RETURNS TABLE(o_claim integer, o_found boolean, o_prior_state text, o_enabled integer, o_contended boolean, o_taken json)
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_generic_plan'
AS $function$
      declare
        nd record;
        cand record;
        v_claims int := coalesce(array_length(p_node_ids, 1), 0);
        v_want int;
        v_taken int;
        v_pools text[];
        v_groups text[];
        v_skipped bigint[];
        -- The jobs this claim prefers (session affinity): p_prefer_jobs of its index.
        v_prefer bigint[];
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
        v_gpu_free int[];
        v_gpu_n int;
        v_user_locks int := hashtext(current_schema() || '/drover_claim/user');
        -- The GPU indexes given to each chosen task ('' for none), beside c_task.
        c_gpus text[] := '{}';
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
          if cardinality(p_prefer_jobs) > 0 then
            v_prefer := array(select u.j from unnest(p_prefer_claims, p_prefer_jobs) u(c, j)
              where u.c = i);
          else
            v_prefer := '{}';
          end if;
          <<looks>>
          while cardinality(v_skipped) <= p_max_skipped loop
            v_more := false;
            if cardinality(v_prefer) = 0 then
            for cand in
${PAGE}            loop
${CLAIM_WALK}            end loop;
            else
            for cand in
${PREFERRED_PAGE}            loop
${CLAIM_WALK}            end loop;
            end if;
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
              log_lines, created_at, started_at, ended_at, last_heartbeat, last_modified, gpu_ids)
            select v_job.id, c.t, c.n, v_job.num_exes - v_n + c.ord,
              case when c.s then 'RUNNING' else 'ACQUIRED' end, p_lease_expires_at,
              0, null, null, null, 0, 0, p_now, case when c.s then p_now end, null,
              p_now, p_now, c.g
            from (select u.t, u.n, u.s, u.g, row_number() over (order by u.o) as ord
              from unnest(c_job, c_task, c_node, c_start, c_gpus) with ordinality
                u(j, t, n, s, g, o)
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
      end $function$
`;

import { CLAIM as CLAIM_0048 } from './0048-claim.js';

/*
 * The PostgreSQL text migration 0050 (0050-claim-admits.ts) runs: `drover_job_admits`, and
 * `drover_claim` whole, 0048's text with two changes to its looks (the queries a claim walks
 * the queue with). 0048's text is fixed (a landed migration is never edited), so the text
 * below is 0048's with its parts replaced, each found exactly as often as expected or the
 * migration fails.
 *
 * PostgreSQL sets up every subquery of a statement's plan each time the statement runs,
 * whether or not a row ever calls for it, and a look ran once per claim. A look named five
 * subqueries for a job's node list, machine limit and blocked nodes; most jobs have none
 * of them.
 *
 * 1. Those tests move into `drover_job_admits`, called only for a job that has one (the
 *    flags on its row say so). The function is STABLE, so its queries read the look's own
 *    snapshot, as the subqueries did.
 * 2. The plain look (no pool shares, 0048) read each job's pool and its share of the
 *    holder's burst only to sort by fair share and cap a burst, neither of which a pool
 *    without a share mode has: the page of jobs, already in order, is the look.
 *
 * Measured on the look alone (pgbench, prepared, generic plan, 20 jobs of 100 tasks, 50
 * nodes, three alternated rounds of 3,000): 97–104 µs before, 79–82 µs with the plain look,
 * 77–85 µs with both; `select 1` took 45 µs on the same connection. In bench/peer.ts
 * (single-task protocol, 6,000 tasks, alternated ABBA on one machine), PostgreSQL spent
 * 0.62 and 0.57 ms of CPU per task before, 0.43 and 0.41 after.
 */

/** The look's tests of a job's node list, machine limit, limits and blocked nodes. */
const ADMITS_FROM = `and (j.node_list_mode = 'NONE'`;
const ADMITS_TO = `where b.job_id = j.id and b.node_id = nd.id and b.blocked = 1))`;
/**
 * How often 0048's looks hold them: the page and the heads of the fair-share look, the
 * plain look's page, and the three parts of the look of a claim that prefers jobs.
 */
const ADMITS_COUNT = 6;

const ADMITS = `and ((j.node_list_mode = 'NONE' and j.machine_limit = 0 and j.uses_limits = 0
                  and j.blocked_nodes = 0)
                  or drover_job_admits(j.id, nd.id, nd.name, j.node_list_mode,
                    j.machine_limit, j.machine_limit_release, j.uses_limits, j.blocked_nodes))`;

export const JOB_ADMITS = `
      create or replace function drover_job_admits(p_job bigint, p_node bigint,
        p_node_name text, p_list_mode text, p_machine_limit int, p_release double precision,
        p_uses_limits int, p_blocked int)
      returns boolean language plpgsql stable as $$
      begin
        return (p_list_mode = 'NONE'
            or (p_list_mode = 'ALLOW' and exists (select 1 from job_node_list l
              where l.job_id = p_job and l.node_name = p_node_name))
            or (p_list_mode = 'DENY' and not exists (select 1 from job_node_list l
              where l.job_id = p_job and l.node_name = p_node_name)))
          and (p_machine_limit = 0
            or exists (select 1 from executions x where x.job_id = p_job
              and x.node_id = p_node and x.ended_at is null
              and x.state in ('ACQUIRED', 'RUNNING'))
            or (select count(distinct x.node_id) from executions x where x.job_id = p_job
              and x.node_id <> p_node and x.ended_at is null
              and x.state in ('ACQUIRED', 'RUNNING')
              and (p_release < 0 or x.progress < p_release))
              < p_machine_limit)
          and (p_uses_limits = 0 or drover_limits_open(p_job, p_node, p_node_name))
          and (p_blocked = 0 or not exists (select 1 from job_node_failures b
            where b.job_id = p_job and b.node_id = p_node and b.blocked = 1));
      end $$`;

function withAdmits(text: string): string {
  let count = 0;
  let out = '';
  let from = 0;
  for (let at = text.indexOf(ADMITS_FROM); at >= 0; at = text.indexOf(ADMITS_FROM, from)) {
    const end = text.indexOf(ADMITS_TO, at);
    if (end < 0) throw new Error("0050: a look's tests of a job do not end where expected");
    out += text.slice(from, at) + ADMITS;
    from = end + ADMITS_TO.length;
    count++;
  }
  if (count !== ADMITS_COUNT) {
    throw new Error(`0050: the claim holds ${count} looks' tests of a job, not ${ADMITS_COUNT}`);
  }
  return out + text.slice(from);
}

/** The plain look's select after its page, to its end. */
const PLAIN_FROM = `limit p_jobs_per_look)
              select p.*, h.share_by, h.holder,`;
const PLAIN_TO = `p.created_at, p.id;
            end if;`;
const PLAIN = `limit p_jobs_per_look)
              -- No pool shares: the page, in its order, is the look (0050-claim.ts).
              select p.*, 'user'::text as share_by, p.user_name as holder,
                null::integer as burst
              from page p
              order by p.priority desc, p.created_at, p.id;
            end if;`;

function withPlainPage(text: string): string {
  // The plain look is the second branch of `if v_shares` (0048): its page's select follows
  // the heads look's, which ends with the same words.
  const branch = text.indexOf('            else\n              open c_look no scroll for\n');
  const at = text.indexOf(PLAIN_FROM, branch);
  const end = text.indexOf(PLAIN_TO, at);
  const next = text.indexOf(PLAIN_FROM, at + 1);
  if (branch < 0 || at < 0 || end < 0 || (next >= 0 && next < end)) {
    throw new Error("0050: the claim's plain look is not where 0048 left it");
  }
  if (!text.slice(at, end).includes('from page p\n')) {
    throw new Error("0050: the claim's plain look does not read its page alone");
  }
  return text.slice(0, at) + PLAIN + text.slice(end + PLAIN_TO.length);
}

export const CLAIM = withAdmits(withPlainPage(CLAIM_0048));

import { CLAIM as CLAIM_0045 } from './0045-claim.js';

/*
 * The PostgreSQL text migration 0047 (0047-claim-job-rows.ts) runs: `drover_claim` whole,
 * 0045's text with its answer rows built differently. 0045's text is fixed (a landed
 * migration is never edited), so the text below is 0045's up to its first answer row
 * (`o_claim := 0`), then ANSWERS to the end; the migration fails if 0045's text does not
 * have that row once and end the way its answers end.
 *
 * Before, each claim's row held, per job it took from, `row_to_json` of the job's whole row:
 * a group of 20 single-task claims of one job built the same job's JSON 20 times, and each
 * claim's row was a statement of its own. Now row 0 holds each job's row once (every job
 * claimed from or finished, as the claims' counters left it), each claim names its jobs
 * by id, and one statement answers every claim. Measured in a rolled-back transaction
 * over 60 jobs of 100 tasks, 50 nodes (p10 of 40 calls, one run of alternated pairs):
 * 20 claims of one task, 5.9–6.1 ms before and 4.2–4.3 ms after; 12 claims of 10 tasks,
 * 11.6–12.8 ms before and 10.6–11.2 ms after. Through the server (bench/peer.ts, 6,000
 * tasks) tasks/s stayed within the machine's noise; PostgreSQL's CPU per task in the
 * batched protocol went from 0.17 and 0.19 ms to 0.16 and 0.14.
 */

/** Where 0045's answer rows begin (the first sets row 0), and how its text ends. */
const ANSWERS_FROM = `        o_claim := 0;\n`;
const END = `      end $function$\n`;

/** Row 0: the rows of every job claimed from or finished (v_jobs); then one row per claim. */
const ANSWERS = `        return query select 0, true, null::text, 0, false,
          coalesce((select json_agg(row_to_json(j)) from jobs j where j.id = any(v_jobs)),
            '[]'::json);
        return query
          select c.i, r_found[c.i], r_prior[c.i], r_enabled[c.i], r_contended[c.i],
            coalesce(p.taken, '[]'::json)
          from generate_series(1, v_claims) c(i)
          left join lateral (
            select json_agg(g.part order by g.first) as taken from (
              select min(u.o) as first, json_build_object('j', u.jid, 'x',
                  json_agg(json_build_object('e', row_to_json(e), 't', row_to_json(t),
                    'q', u.q) order by u.o)) as part
              from unnest(c_claim, c_job, c_task, c_queued) with ordinality u(c, jid, tid, q, o)
              join tasks t on t.id = u.tid
              join executions e on e.id = t.last_execution_id
              where u.c = c.i and u.jid <> all(v_dropped)
              group by u.jid) g) p on true
          order by c.i;
      end $function$
`;

function withJobRowsOnce(text: string): string {
  const from = text.indexOf(ANSWERS_FROM);
  if (from < 0 || text.indexOf(ANSWERS_FROM, from + 1) >= 0 || !text.endsWith(END)) {
    throw new Error("0047: the claim's answer rows are not where 0045 left them");
  }
  return text.slice(0, from) + ANSWERS;
}

export const CLAIM = withJobRowsOnce(CLAIM_0045);

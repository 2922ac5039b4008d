import { CLAIM as CLAIM_0047 } from './0047-claim.js';

/*
 * The PostgreSQL text migration 0048 (0048-claim-plain-looks.ts) runs: `drover_claim` whole,
 * 0047's text with its look (the query a claim walks when it prefers no job) opened in one
 * of two forms. 0047's text is fixed (a landed migration is never edited), so the text below
 * is 0047's with the anchors below replaced, each found exactly where expected or the
 * migration fails.
 *
 * The look's `heads` part finds the first job of each holder in weighted and balanced pools
 * (fair share). Where no pool has those modes it finds nothing, yet PostgreSQL builds its
 * whole plan (a window, a join, a union) again for every look of every claim: an
 * executor's start is paid per statement run, and in a profile of the PostgreSQL backend
 * running drover_claim, executor start was a fifth of the function's time. So the function
 * asks once per call whether any pool shares, and opens the look with its heads only then.
 * Measured in a rolled-back transaction over 20 jobs of 100 tasks and 50 nodes (p25 of 40
 * calls, four alternated rounds): 10 claims of one task, 5.9–6.4 ms before and 3.6–5.4 ms
 * after; 17 claims of ten tasks were level (their inserts dominate).
 */

/** The look of a claim that prefers no job, from its `for` to its `loop`. */
const LOOK_FROM = `            if cardinality(v_prefer) = 0 then\n            for cand in\n`;
const LOOK_TO = `            loop\n`;
/** The heads part of the look, and the union that reads it. */
const HEADS_FROM = `              heads as (`;
const HEADS_TO = `              select p.*, h.share_by`;
const PAGE_END = `limit p_jobs_per_look),\n`;
const UNION = `from (select * from page union all select * from heads) p`;
/** The look's loop ends, and where it leaves the whole walk when the claim has enough. */
const LOOP_END = `            end loop;\n            else\n`;
const ENOUGH = `              if v_taken >= v_want then exit looks; end if;\n`;

function once(text: string, part: string, from = 0): number {
  const at = text.indexOf(part, from);
  if (at < 0 || text.indexOf(part, at + 1) >= 0) {
    throw new Error(`0048: the claim's text does not hold ${JSON.stringify(part)} once`);
  }
  return at;
}

function withPlainLooks(text: string): string {
  const lookFrom = once(text, LOOK_FROM);
  const queryFrom = lookFrom + LOOK_FROM.length;
  const queryTo = text.indexOf(LOOK_TO, queryFrom);
  const loopEnd = once(text, LOOP_END);
  const enough = text.indexOf(ENOUGH, queryTo);
  if (queryTo < 0 || enough < 0 || enough > loopEnd) {
    throw new Error("0048: the claim's look is not where 0047 left it");
  }
  const full = text.slice(queryFrom, queryTo).replace(/\n$/, '');
  const headsFrom = once(full, HEADS_FROM);
  const headsTo = once(full, HEADS_TO);
  const pageEnd = full.lastIndexOf(PAGE_END, headsFrom);
  if (pageEnd < 0 || pageEnd + PAGE_END.length !== headsFrom) {
    throw new Error("0048: the look's heads do not follow its page");
  }
  once(full, UNION);
  const plain =
    full.slice(0, pageEnd) +
    'limit p_jobs_per_look)\n' +
    full.slice(headsTo).replace(UNION, 'from page p');
  const body = text.slice(queryTo + LOOK_TO.length, loopEnd);
  return (
    text.slice(0, lookFrom) +
    `            if cardinality(v_prefer) = 0 then
            -- Fair share's heads only where a pool shares (0048-claim.ts).
            if v_shares then
              open c_look no scroll for
${full};
            else
              open c_look no scroll for
${plain};
            end if;
            loop
              fetch c_look into cand;
              exit when not found;
` +
    body.replace(
      ENOUGH,
      `              if v_taken >= v_want then close c_look; exit looks; end if;\n`,
    ) +
    `            end loop;\n            close c_look;\n            else\n` +
    text.slice(loopEnd + LOOP_END.length)
  );
}

/** The declarations and the first statement the plain looks need. */
const DECLARE_AT = `        cand record;\n`;
const BEGIN_AT = `      begin\n`;

function withSharesAsked(text: string): string {
  const declareAt = once(text, DECLARE_AT) + DECLARE_AT.length;
  const beginAt = text.indexOf(BEGIN_AT, declareAt) + BEGIN_AT.length;
  if (beginAt < BEGIN_AT.length) throw new Error("0048: the claim's body has no begin");
  return (
    text.slice(0, declareAt) +
    `        -- The look of a claim that prefers no job, and whether any pool shares.
        c_look refcursor;
        v_shares boolean;
` +
    text.slice(declareAt, beginAt) +
    `        v_shares := exists (select 1 from pools where mode in ('weighted', 'balanced'));
` +
    text.slice(beginAt)
  );
}

export const CLAIM = withSharesAsked(withPlainLooks(CLAIM_0047));
